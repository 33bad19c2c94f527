// Project secrets in Secrets Manager: `/dstack/<bucket>/secrets/<project id>/<name>`, tagged, with a
// resource policy that lets the backend's instance role read them. Values are write-only here:
// nothing in this module reads one back. Listing names is not possible under the seed's policy (no
// secretsmanager:ListSecrets), so names and dates are kept in the database by the caller.
import { getCallerIdentity, type AwsSession } from "../discovery.js";
import { deleteSecret, putSecret, putSecretResourcePolicy, type StoredSecret } from "../secrets-store.js";
import { arnAccount, instanceRoleArn, projectSecretName } from "../names.js";
import { localFailure, type AwsResult } from "../errors.js";
import { retryResult } from "../retry.js";

/** Letters, digits and _ . - (Secrets Manager also allows + = @ /, kept out so names stay simple to quote and cannot nest). */
const SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why `name` is not a valid project secret name, or null. */
export function projectSecretNameProblem(name: string): string | null {
  if (!SECRET_NAME.test(name)) {
    return "A secret name must be 1 to 128 characters: letters, digits, '_', '.' and '-', not starting with '.' or '-'.";
  }
  return null;
}

/** `/dstack/<bucket>/secrets/<project id>/<name>`, inside the prefix the seed's policy allows. */
export function projectSecretId(bucket: string, projectId: string, name: string): string {
  return projectSecretName(bucket, `${projectId}/${name}`);
}

/**
 * The secret's resource policy: the instance role may read it (GetSecretValue), nothing else.
 * Resource "*" in a resource policy means "this secret"; pass the ARN to name it explicitly. Unlike
 * the dstack hub's policy there is no secretsmanager:ListSecrets (it is not a resource-level action).
 */
export function secretResourcePolicy(instanceRoleArnValue: string, secretArn?: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InstanceRoleReads",
        Effect: "Allow",
        Principal: { AWS: instanceRoleArnValue },
        Action: "secretsmanager:GetSecretValue",
        Resource: secretArn ?? "*",
      },
    ],
  };
}

export interface ProjectSecretInput {
  bucket: string;
  projectId: string;
  name: string;
  value: string;
  /** From provisioning; when absent it is derived from sts:GetCallerIdentity and the bucket. */
  instanceRoleArn?: string | null;
}

export interface StoredProjectSecret {
  secretId: string;
  arn: string;
  created: boolean;
  versionId: string | null;
}

export interface PolicyRetryOptions {
  /** PutResourcePolicy attempts while AWS does not yet know the (new) role. Default 3. */
  attempts?: number;
  /** Default 5 s between attempts. */
  delayMs?: number;
}

/**
 * Creates or replaces the secret (tagged owner=dstack, dstack_bucket=<bucket>), then attaches the
 * resource policy. PutResourcePolicy is retried a few times on MalformedPolicyDocumentException:
 * AWS rejects a principal that has not propagated yet. The value is never returned.
 */
export async function setProjectSecret(
  session: AwsSession,
  region: string,
  input: ProjectSecretInput,
  options: PolicyRetryOptions = {},
): Promise<AwsResult<StoredProjectSecret>> {
  const problem = projectSecretNameProblem(input.name);
  if (problem) return { ok: false, error: localFailure("INVALID_INPUT", "secretsmanager", "CreateSecret", "InvalidSecretName", problem) };
  if (!input.projectId || input.projectId.includes("/")) {
    return { ok: false, error: localFailure("INVALID_INPUT", "secretsmanager", "CreateSecret", "InvalidProjectId", "The project id must not be empty or contain '/'.") };
  }

  let roleArn = input.instanceRoleArn ?? null;
  if (!roleArn) {
    const identity = await getCallerIdentity(session);
    if (!identity.ok) return identity;
    const account = arnAccount(identity.value.arn);
    roleArn = instanceRoleArn(account.partition, account.accountId, input.bucket);
  }

  const secretId = projectSecretId(input.bucket, input.projectId, input.name);
  const stored = await putSecret(session, region, { name: secretId, value: input.value, bucket: input.bucket });
  if (!stored.ok) return stored;

  const { result: policy } = await retryResult(
    () => putSecretResourcePolicy(session, region, secretId, secretResourcePolicy(roleArn)),
    (failure) => failure.code === "MalformedPolicyDocumentException",
    { attempts: Math.max(1, options.attempts ?? 3), delayMs: options.delayMs ?? 5_000, factor: 1 },
  );
  if (!policy.ok) return policy;
  return { ok: true, value: toStored(secretId, stored.value) };
}

function toStored(secretId: string, stored: StoredSecret): StoredProjectSecret {
  return { secretId, arn: stored.arn, created: stored.created, versionId: stored.versionId };
}

/** Deletes the secret at once (no recovery window); a secret that does not exist counts as deleted. */
export async function deleteProjectSecret(
  session: AwsSession,
  region: string,
  input: { bucket: string; projectId: string; name: string },
): Promise<AwsResult<{ secretId: string }>> {
  const problem = projectSecretNameProblem(input.name);
  if (problem) return { ok: false, error: localFailure("INVALID_INPUT", "secretsmanager", "DeleteSecret", "InvalidSecretName", problem) };
  const secretId = projectSecretId(input.bucket, input.projectId, input.name);
  const deleted = await deleteSecret(session, region, secretId);
  return deleted.ok ? { ok: true, value: { secretId } } : deleted;
}

// Secrets Manager access for a backend's bucket-scoped secrets. Uses only actions the documented
// policy grants (CreateSecret, PutSecretValue, TagResource, PutResourcePolicy, DeleteSecret):
// in particular no DescribeSecret, so "does it exist?" is answered by trying to create it.
import type { AwsSession } from "./discovery.js";
import { attempt, type AwsResult } from "./errors.js";
import { bucketTags, toTagList } from "./names.js";
import { sdk } from "./sdk.js";

export interface StoredSecret {
  arn: string;
  versionId: string | null;
  /** True when the secret was created by this call, false when a new value replaced the old one. */
  created: boolean;
}

/**
 * Stores `value` under `name`: CreateSecret (tagged owner=dstack, dstack_bucket=<bucket>), or, when
 * the name already exists, PutSecretValue (the old value becomes AWSPREVIOUS).
 */
export async function putSecret(
  session: AwsSession,
  region: string,
  secret: { name: string; value: string; bucket: string },
): Promise<AwsResult<StoredSecret>> {
  const { CreateSecretCommand, PutSecretValueCommand } = await sdk.secretsmanager();
  const client = await session.factory.client("secretsmanager", region, session.credentials);
  const created = await attempt("secretsmanager", "CreateSecret", () =>
    client.send(
      new CreateSecretCommand({
        Name: secret.name,
        SecretString: secret.value,
        Tags: toTagList(bucketTags(secret.bucket)),
      }),
    ),
  );
  if (created.ok) {
    return { ok: true, value: { arn: created.value.ARN ?? "", versionId: created.value.VersionId ?? null, created: true } };
  }
  if (created.error.code !== "ResourceExistsException") return created;
  const replaced = await attempt("secretsmanager", "PutSecretValue", () =>
    client.send(new PutSecretValueCommand({ SecretId: secret.name, SecretString: secret.value })),
  );
  if (!replaced.ok) return replaced;
  return { ok: true, value: { arn: replaced.value.ARN ?? "", versionId: replaced.value.VersionId ?? null, created: false } };
}

/**
 * Deletes at once, without the 7–30 day recovery window, so the name can be reused right away.
 * Deleting a secret that does not exist succeeds (AWS answers with a made-up ARN).
 */
export async function deleteSecret(session: AwsSession, region: string, name: string): Promise<AwsResult<void>> {
  const { DeleteSecretCommand } = await sdk.secretsmanager();
  const client = await session.factory.client("secretsmanager", region, session.credentials);
  const result = await attempt("secretsmanager", "DeleteSecret", () =>
    client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
  );
  return result.ok ? { ok: true, value: undefined } : result;
}

/** Attaches a resource policy (e.g. letting the instance role read one project secret). */
export async function putSecretResourcePolicy(
  session: AwsSession,
  region: string,
  name: string,
  policy: object,
): Promise<AwsResult<void>> {
  const { PutResourcePolicyCommand } = await sdk.secretsmanager();
  const client = await session.factory.client("secretsmanager", region, session.credentials);
  const result = await attempt("secretsmanager", "PutResourcePolicy", () =>
    client.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: JSON.stringify(policy),
        // Refuse policies that would make the secret readable from outside the account.
        BlockPublicPolicy: true,
      }),
    ),
  );
  return result.ok ? { ok: true, value: undefined } : result;
}

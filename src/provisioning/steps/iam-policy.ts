// Step 1: the IAM policy instances run with, `dstack_policy_<bucket_us>`.
// The seed's policy grants iam:CreatePolicy but no iam:GetPolicy: existence is learned from
// CreatePolicy's EntityAlreadyExists, and a policy this backend created is known from its record
// (so a second run makes no call at all). A policy that existed before is kept and never deleted.
import { createHash } from "node:crypto";
import { collectStepError, combineStepErrors, throwIfAborted } from "../../aws/provisioning/failures.js";
import { callerAccount, createPolicy, deletePolicy } from "../../aws/provisioning/iam.js";
import { arnAccount, instancePolicyName, instanceRoleName, policyArn } from "../../aws/names.js";
import { instancePolicyDocument } from "../../aws/provisioning/documents.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { CREATED_BY, RESOURCE_KIND, awsTarget, detail, recordsOf, teardownNaming } from "./common.js";

function documentSha256(document: object): string {
  return createHash("sha256").update(JSON.stringify(document)).digest("hex");
}

async function provision(context: StepContext): Promise<StepOutcome> {
  const { bucket } = context.backend;
  const name = instancePolicyName(bucket);
  const ours = recordsOf(context, RESOURCE_KIND.policy).find((r) => r.identifier.endsWith(`:policy/${name}`));
  if (ours) {
    const current = documentSha256(instancePolicyDocument(bucket, arnAccount(ours.identifier)));
    const outdated = detail(ours, "documentSha256") !== undefined && detail(ours, "documentSha256") !== current;
    return {
      resourceId: ours.identifier,
      message: outdated
        ? `Created by an earlier run with an older document; kept as it is (updating it needs iam:CreatePolicyVersion, which the seed's policy does not grant).`
        : `Created by an earlier run; kept (not re-read: iam:GetPolicy is not in the seed's policy).`,
    };
  }
  throwIfAborted(context.signal);
  const account = await callerAccount(context.session);
  const document = instancePolicyDocument(bucket, account);
  throwIfAborted(context.signal);
  const arn = policyArn(account.partition, account.accountId, bucket);
  const created = await createPolicy(awsTarget(context), {
    name,
    arn,
    document,
    description: `${CREATED_BY} bucket ${bucket}: what its instances may do`,
    tags: context.tags,
  });
  if (created.created) {
    await context.record({ kind: RESOURCE_KIND.policy, identifier: created.arn, details: { name, documentSha256: documentSha256(document) } });
    return { resourceId: created.arn, message: "Created." };
  }
  return {
    resourceId: arn,
    message:
      `IAM policy ${name} already existed and was kept as it is. It was not created by this backend, so teardown leaves it; ` +
      `its document cannot be checked or updated without iam:GetPolicy and iam:CreatePolicyVersion.`,
  };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const records = recordsOf(context, RESOURCE_KIND.policy);
  if (records.length === 0) return { skipped: true, message: "Provisioning created no IAM policy for this backend." };
  const roleName = instanceRoleName(context.backend.bucket);
  const notes: string[] = [];
  const errors = [];
  for (const record of records) {
    throwIfAborted(context.signal);
    const error = await collectStepError(async () => {
      const result = await deletePolicy(awsTarget(context), record.identifier, roleName);
      await context.forget(record.kind, record.identifier);
      notes.push(result === "deleted" ? `Deleted ${record.identifier}.` : `${record.identifier} was already gone.`);
    });
    if (error) errors.push(error);
  }
  if (errors.length) throw combineStepErrors(errors);
  return { resourceId: records.map((r) => r.identifier).join(", "), message: notes.join(" ") };
}

export const iamPolicyStep: ProvisioningStepDefinition = { name: "iam-policy", provision, teardown: teardownNaming("iam-policy", teardown) };

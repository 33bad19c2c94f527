// Step 2: the role instances assume, `dstack_role_<bucket_us>`, trusted by EC2, with the policy
// of step 1 attached. GetRole first; a role found with this backend's tags was created by an
// interrupted run and is adopted; any other existing role is used but never deleted. The
// attachment is recorded when it involves a role or policy of ours, so a second run does not
// attach again (the seed's policy has no iam:ListAttachedRolePolicies to check it).
import {
  attachRolePolicy,
  createRole,
  deleteRole,
  detachRolePolicy,
  getInstanceProfile,
  getRole,
  removeRoleFromInstanceProfile,
  tagRole,
} from "../../aws/provisioning/iam.js";
import { throwIfAborted } from "../../aws/provisioning/failures.js";
import { arnAccount, instanceProfileName, instancePolicyName, instanceRoleName, policyArn } from "../../aws/names.js";
import { trustsEc2 } from "../../aws/provisioning/documents.js";
import { PermanentStepError } from "../../errors/step-errors.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { CREATED_BY, RESOURCE_KIND, awsTarget, claimExisting, detail, isRecorded, recordOnce, recordsOf, teardownNaming } from "./common.js";

export function attachmentIdentifier(roleName: string, policyArn: string): string {
  return `${roleName}:${policyArn}`;
}

async function provision(context: StepContext): Promise<StepOutcome> {
  const { bucket } = context.backend;
  const target = awsTarget(context);
  const name = instanceRoleName(bucket);
  const notes: string[] = [];

  let role = await getRole(target, name);
  let ours: boolean;
  if (!role) {
    throwIfAborted(context.signal);
    role = await createRole(target, { name, description: `${CREATED_BY} bucket ${bucket}: assumed by its instances`, tags: context.tags });
    await context.record({ kind: RESOURCE_KIND.role, identifier: role.Arn!, details: { name } });
    ours = true;
    notes.push("Created.");
  } else {
    if (!trustsEc2(role.AssumeRolePolicyDocument)) {
      throw new PermanentStepError(
        `IAM role ${name} already exists but does not let EC2 (ec2.amazonaws.com) assume it, so instances could not use it; ` +
          `add EC2 to its trust policy or delete the role, then retry.`,
      );
    }
    const record = { kind: RESOURCE_KIND.role, identifier: role.Arn!, details: { name } };
    ours = await claimExisting(context, { record, tags: role.Tags, retag: (missing) => tagRole(target, name, missing) }, notes);
  }

  const account = arnAccount(role.Arn!);
  const arn = policyArn(account.partition, account.accountId, bucket);
  const attachment = attachmentIdentifier(name, arn);
  if (!isRecorded(context, RESOURCE_KIND.rolePolicyAttachment, attachment)) {
    throwIfAborted(context.signal);
    await attachRolePolicy(target, name, arn);
    const policyOurs = isRecorded(context, RESOURCE_KIND.policy, arn);
    if (ours || policyOurs) {
      await recordOnce(context, { kind: RESOURCE_KIND.rolePolicyAttachment, identifier: attachment, details: { roleName: name, policyArn: arn } });
    }
    notes.push(`Policy ${instancePolicyName(bucket)} attached.`);
  }
  if (notes.length === 0) notes.push("Already provisioned.");
  return { resourceId: role.Arn!, message: notes.join(" ") };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const target = awsTarget(context);
  const attachments = recordsOf(context, RESOURCE_KIND.rolePolicyAttachment);
  const roles = recordsOf(context, RESOURCE_KIND.role);
  if (attachments.length === 0 && roles.length === 0) {
    return { skipped: true, message: "Provisioning created no IAM role for this backend." };
  }
  const notes: string[] = [];
  for (const record of attachments) {
    const roleName = detail(record, "roleName");
    const arn = detail(record, "policyArn");
    if (roleName && arn) {
      throwIfAborted(context.signal);
      const roleIsOurs = roles.some((r) => detail(r, "name") === roleName);
      const leftBehind = roleIsOurs ? `IAM role ${roleName}, with policy ${arn} attached` : `policy ${arn} attached to role ${roleName}`;
      const result = await detachRolePolicy(target, roleName, arn, leftBehind);
      notes.push(result === "detached" ? `Detached ${arn} from ${roleName}.` : `${arn} was no longer attached to ${roleName}.`);
    }
    await context.forget(record.kind, record.identifier);
  }
  for (const record of roles) {
    const name = detail(record, "name") ?? record.identifier.slice(record.identifier.lastIndexOf("/") + 1);
    const leftBehind = `IAM role ${name}`;
    // A role still in an instance profile cannot be deleted. The profile of step 3 is normally
    // deleted already (teardown runs in reverse); one that provisioning did not create is not.
    const profileName = instanceProfileName(context.backend.bucket);
    const profile = await getInstanceProfile(target, profileName);
    if (profile?.Roles?.some((r) => r.RoleName === name)) {
      throwIfAborted(context.signal);
      await removeRoleFromInstanceProfile(target, profileName, name, leftBehind);
      notes.push(`Removed ${name} from instance profile ${profileName}.`);
    }
    const account = arnAccount(record.identifier);
    throwIfAborted(context.signal);
    const result = await deleteRole(target, name, policyArn(account.partition, account.accountId, context.backend.bucket));
    await context.forget(record.kind, record.identifier);
    notes.push(result === "deleted" ? `Deleted role ${name}.` : `Role ${name} was already gone.`);
  }
  return { resourceId: roles.map((r) => r.identifier).join(", ") || undefined, message: notes.join(" ") };
}

export const iamRoleStep: ProvisioningStepDefinition = { name: "iam-role", provision, teardown: teardownNaming("iam-role", teardown) };

// Thin IAM operations for provisioning. Each makes one or two calls, turns every failure into a
// step error (see failures.ts), and reports "already exists" / "already gone" as values so the
// steps above can be idempotent. Only actions of the seed's policy are used for provisioning;
// teardown needs the delete/detach/remove actions the seed lacks (listed in the README).
import type { InstanceProfile, Role } from "@aws-sdk/client-iam";
import { getCallerIdentity, type AwsSession } from "../discovery.js";
import { PermanentStepError, TransientStepError } from "../../errors/step-errors.js";
import { isCode } from "../errors.js";
import { awsCall, awsValue, stepErrorFor } from "./failures.js";
import { arnAccount, type Tag } from "../names.js";
import { ec2TrustPolicyDocument } from "./documents.js";
import { sdk } from "../sdk.js";

export interface AwsTarget {
  session: AwsSession;
  region: string;
}

function iamClient(target: AwsTarget) {
  return target.session.factory.client("iam", target.region, target.session.credentials);
}

/** Partition and account id of the backend's credentials (sts:GetCallerIdentity needs no permission). */
export async function callerAccount(session: AwsSession): Promise<{ partition: string; accountId: string }> {
  const identity = await getCallerIdentity(session);
  if (!identity.ok) throw stepErrorFor(identity.error, { doing: "reading the account id" });
  return arnAccount(identity.value.arn);
}

/**
 * CreatePolicy. `{ created: false }` when a policy of that name existed before the call: without
 * iam:GetPolicy (not in the seed's policy) that is all we can learn about it. EntityAlreadyExists
 * on the SDK's retry of the call means the first attempt created it (its answer was lost): ours.
 */
export async function createPolicy(
  target: AwsTarget,
  input: { name: string; arn: string; document: object; description: string; tags: Tag[] },
): Promise<{ created: true; arn: string } | { created: false }> {
  const { CreatePolicyCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "CreatePolicy",
    { doing: `creating IAM policy ${input.name}`, parameter: `the policy document of ${input.name}` },
    () =>
      iam.send(
        new CreatePolicyCommand({
          PolicyName: input.name,
          PolicyDocument: JSON.stringify(input.document),
          Description: input.description,
          Tags: input.tags,
        }),
      ),
    (failure) => isCode(failure, "EntityAlreadyExists"),
  );
  if (!result.ok) return result.attempts > 1 ? { created: true, arn: input.arn } : { created: false };
  const arn = result.value.Policy?.Arn;
  if (!arn) throw new TransientStepError(`CreatePolicy for ${input.name} returned no ARN; retrying finds the policy.`);
  return { created: true, arn };
}

/**
 * DeletePolicy. A policy still attached cannot be deleted: it is detached from `roleName` (the only
 * role provisioning attaches it to) and deleted again.
 */
export async function deletePolicy(target: AwsTarget, arn: string, roleName: string): Promise<"deleted" | "gone"> {
  const { DeletePolicyCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const description = { doing: `deleting IAM policy ${arn}`, leftBehind: `IAM policy ${arn}` };
  const send = () => iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
  const conflict = (f: { code: string }) => f.code === "DeleteConflict" || f.code === "DeleteConflictException";
  let result = await awsCall("iam", "DeletePolicy", description, send, (f) => f.kind === "NOT_FOUND" || conflict(f));
  if (!result.ok && conflict(result.error)) {
    await detachRolePolicy(target, roleName, arn, description.leftBehind);
    result = await awsCall("iam", "DeletePolicy", description, send, (f) => f.kind === "NOT_FOUND" || conflict(f));
    if (!result.ok && conflict(result.error)) {
      throw new PermanentStepError(
        `IAM policy ${arn} is still attached to other roles, users or groups; detach it from them, then retry the teardown. Left behind: IAM policy ${arn}.`,
      );
    }
  }
  return result.ok ? "deleted" : "gone";
}

/** GetRole; null when there is no such role. */
export async function getRole(target: AwsTarget, name: string): Promise<Role | null> {
  const { GetRoleCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "GetRole",
    { doing: `looking up IAM role ${name}` },
    () => iam.send(new GetRoleCommand({ RoleName: name })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  if (!result.ok) return null;
  if (!result.value.Role?.Arn) throw new TransientStepError(`GetRole for ${name} returned no role; retrying.`);
  return result.value.Role;
}

/** CreateRole trusted by EC2. A role created concurrently by someone else is retried (then found). */
export async function createRole(target: AwsTarget, input: { name: string; description: string; tags: Tag[] }): Promise<Role> {
  const { CreateRoleCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "CreateRole",
    { doing: `creating IAM role ${input.name}`, parameter: `the role name ${input.name}` },
    () =>
      iam.send(
        new CreateRoleCommand({
          RoleName: input.name,
          AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicyDocument()),
          Description: input.description,
          MaxSessionDuration: 3600,
          Tags: input.tags,
        }),
      ),
    (failure) => isCode(failure, "EntityAlreadyExists"),
  );
  if (!result.ok || !result.value.Role?.Arn) {
    throw new TransientStepError(`IAM role ${input.name} appeared while it was being created; retrying finds it.`);
  }
  return result.value.Role;
}

export async function tagRole(target: AwsTarget, name: string, tags: Tag[]): Promise<void> {
  const { TagRoleCommand } = await sdk.iam();
  const iam = await iamClient(target);
  await awsValue("iam", "TagRole", { doing: `tagging IAM role ${name}` }, () =>
    iam.send(new TagRoleCommand({ RoleName: name, Tags: tags })),
  );
}

/** AttachRolePolicy (idempotent in IAM). A policy not found yet is IAM propagation: transient. */
export async function attachRolePolicy(target: AwsTarget, roleName: string, arn: string): Promise<void> {
  const { AttachRolePolicyCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "AttachRolePolicy",
    { doing: `attaching IAM policy ${arn} to role ${roleName}` },
    () => iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  if (!result.ok) {
    throw new TransientStepError(
      `IAM policy ${arn} or role ${roleName} was not found while attaching the policy: a new policy or role can take a few ` +
        `seconds to propagate. If this persists, the policy was deleted outside provisioning: tear the backend down and provision it again.`,
    );
  }
}

/** DetachRolePolicy; "gone" when the role, the policy or the attachment no longer exists. */
export async function detachRolePolicy(target: AwsTarget, roleName: string, arn: string, leftBehind: string): Promise<"detached" | "gone"> {
  const { DetachRolePolicyCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "DetachRolePolicy",
    { doing: `detaching IAM policy ${arn} from role ${roleName}`, leftBehind },
    () => iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  return result.ok ? "detached" : "gone";
}

/**
 * DeleteRole. A role with a policy still attached cannot be deleted: our policy (`policyArn`) is
 * detached and the delete retried once; any other attached or inline policy is someone else's.
 */
export async function deleteRole(target: AwsTarget, name: string, policyArn: string): Promise<"deleted" | "gone"> {
  const { DeleteRoleCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const leftBehind = `IAM role ${name}`;
  const description = { doing: `deleting IAM role ${name}`, leftBehind };
  const send = () => iam.send(new DeleteRoleCommand({ RoleName: name }));
  const conflict = (f: { code: string }) => f.code === "DeleteConflict" || f.code === "DeleteConflictException";
  let result = await awsCall("iam", "DeleteRole", description, send, (f) => f.kind === "NOT_FOUND" || conflict(f));
  if (!result.ok && conflict(result.error)) {
    await detachRolePolicy(target, name, policyArn, leftBehind);
    result = await awsCall("iam", "DeleteRole", description, send, (f) => f.kind === "NOT_FOUND" || conflict(f));
    if (!result.ok && conflict(result.error)) {
      throw new PermanentStepError(
        `IAM role ${name} still has policies or instance profiles that provisioning did not add; remove them, then retry the teardown. Left behind: ${leftBehind}.`,
      );
    }
  }
  return result.ok ? "deleted" : "gone";
}

/** GetInstanceProfile; null when there is no such profile. */
export async function getInstanceProfile(target: AwsTarget, name: string): Promise<InstanceProfile | null> {
  const { GetInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "GetInstanceProfile",
    { doing: `looking up instance profile ${name}` },
    () => iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  if (!result.ok) return null;
  if (!result.value.InstanceProfile?.Arn) throw new TransientStepError(`GetInstanceProfile for ${name} returned no profile; retrying.`);
  return result.value.InstanceProfile;
}

export async function createInstanceProfile(target: AwsTarget, input: { name: string; tags: Tag[] }): Promise<InstanceProfile> {
  const { CreateInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "CreateInstanceProfile",
    { doing: `creating instance profile ${input.name}`, parameter: `the instance profile name ${input.name}` },
    () => iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: input.name, Tags: input.tags })),
    (failure) => isCode(failure, "EntityAlreadyExists"),
  );
  if (!result.ok || !result.value.InstanceProfile?.Arn) {
    throw new TransientStepError(`Instance profile ${input.name} appeared while it was being created; retrying finds it.`);
  }
  return result.value.InstanceProfile;
}

export async function tagInstanceProfile(target: AwsTarget, name: string, tags: Tag[]): Promise<void> {
  const { TagInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  await awsValue("iam", "TagInstanceProfile", { doing: `tagging instance profile ${name}` }, () =>
    iam.send(new TagInstanceProfileCommand({ InstanceProfileName: name, Tags: tags })),
  );
}

/**
 * AddRoleToInstanceProfile. "full" when the profile already holds a role (its quota is one): the
 * caller reads the profile again to see whether that role is ours. A role or profile not found
 * right after creation is IAM propagation: transient.
 */
export async function addRoleToInstanceProfile(target: AwsTarget, profileName: string, roleName: string): Promise<"added" | "full"> {
  const { AddRoleToInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "AddRoleToInstanceProfile",
    { doing: `adding role ${roleName} to instance profile ${profileName}` },
    () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName })),
    (failure) => failure.kind === "NOT_FOUND" || isCode(failure, "LimitExceeded", "EntityAlreadyExists"),
  );
  if (result.ok) return "added";
  if (result.error.kind === "NOT_FOUND") {
    throw new TransientStepError(
      `IAM role ${roleName} or instance profile ${profileName} was not found while adding the role to the profile; ` +
        `a new role or profile can take a few seconds to propagate.`,
    );
  }
  return "full";
}

/** RemoveRoleFromInstanceProfile; "gone" when the profile, the role or the membership no longer exists. */
export async function removeRoleFromInstanceProfile(
  target: AwsTarget,
  profileName: string,
  roleName: string,
  leftBehind: string,
): Promise<"removed" | "gone"> {
  const { RemoveRoleFromInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "RemoveRoleFromInstanceProfile",
    { doing: `removing role ${roleName} from instance profile ${profileName}`, leftBehind },
    () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  return result.ok ? "removed" : "gone";
}

export async function deleteInstanceProfile(target: AwsTarget, name: string, leftBehind: string): Promise<"deleted" | "gone"> {
  const { DeleteInstanceProfileCommand } = await sdk.iam();
  const iam = await iamClient(target);
  const result = await awsCall(
    "iam",
    "DeleteInstanceProfile",
    { doing: `deleting instance profile ${name}`, leftBehind },
    () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  return result.ok ? "deleted" : "gone";
}

// Step 3: the instance profile `dstack_role_<bucket_us>` that hands the role to instances.
// GetInstanceProfile first; created if missing; the role added if the profile does not hold it.
import {
  addRoleToInstanceProfile,
  createInstanceProfile,
  deleteInstanceProfile,
  getInstanceProfile,
  removeRoleFromInstanceProfile,
  tagInstanceProfile,
} from "../../aws/provisioning/iam.js";
import { throwIfAborted } from "../../aws/provisioning/failures.js";
import { instanceProfileName, instanceRoleName } from "../../aws/names.js";
import { PermanentStepError } from "../../errors/step-errors.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { RESOURCE_KIND, awsTarget, claimExisting, detail, recordsOf, teardownNaming } from "./common.js";

function otherRoleError(profileName: string, roleNames: string[], roleName: string): PermanentStepError {
  return new PermanentStepError(
    `Instance profile ${profileName} already holds role ${roleNames.join(", ")} (a profile holds one role), not ${roleName}; ` +
      `remove that role from the profile or delete the profile, then retry.`,
  );
}

async function provision(context: StepContext): Promise<StepOutcome> {
  const target = awsTarget(context);
  const name = instanceProfileName(context.backend.bucket);
  const roleName = instanceRoleName(context.backend.bucket);
  const notes: string[] = [];

  let profile = await getInstanceProfile(target, name);
  if (!profile) {
    throwIfAborted(context.signal);
    profile = await createInstanceProfile(target, { name, tags: context.tags });
    await context.record({ kind: RESOURCE_KIND.instanceProfile, identifier: profile.Arn!, details: { name } });
    notes.push("Created.");
  } else {
    const record = { kind: RESOURCE_KIND.instanceProfile, identifier: profile.Arn!, details: { name } };
    await claimExisting(context, { record, tags: profile.Tags, retag: (missing) => tagInstanceProfile(target, name, missing) }, notes);
  }

  const roles = (profile.Roles ?? []).map((role) => role.RoleName ?? "");
  if (!roles.includes(roleName)) {
    if (roles.length > 0) throw otherRoleError(name, roles, roleName);
    throwIfAborted(context.signal);
    const added = await addRoleToInstanceProfile(target, name, roleName);
    if (added === "full") {
      // Someone added a role meanwhile (a profile holds one): fine if it is ours.
      const now = (await getInstanceProfile(target, name))?.Roles?.map((role) => role.RoleName ?? "") ?? [];
      if (!now.includes(roleName)) throw otherRoleError(name, now, roleName);
    } else {
      notes.push(`Role ${roleName} added.`);
    }
  }
  if (notes.length === 0) notes.push("Already provisioned.");
  return { resourceId: profile.Arn!, message: notes.join(" ") };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const target = awsTarget(context);
  const records = recordsOf(context, RESOURCE_KIND.instanceProfile);
  if (records.length === 0) return { skipped: true, message: "Provisioning created no instance profile for this backend." };
  const notes: string[] = [];
  for (const record of records) {
    const name = detail(record, "name") ?? record.identifier.slice(record.identifier.lastIndexOf("/") + 1);
    const leftBehind = `instance profile ${name}`;
    const profile = await getInstanceProfile(target, name);
    if (profile) {
      // A profile with a role cannot be deleted: remove whatever role it holds (it is our profile).
      for (const role of profile.Roles ?? []) {
        if (!role.RoleName) continue;
        throwIfAborted(context.signal);
        await removeRoleFromInstanceProfile(target, name, role.RoleName, leftBehind);
      }
      throwIfAborted(context.signal);
      const result = await deleteInstanceProfile(target, name, leftBehind);
      notes.push(result === "deleted" ? `Deleted instance profile ${name}.` : `Instance profile ${name} was already gone.`);
    } else {
      notes.push(`Instance profile ${name} was already gone.`);
    }
    await context.forget(record.kind, record.identifier);
  }
  return { resourceId: records.map((r) => r.identifier).join(", "), message: notes.join(" ") };
}

export const instanceProfileStep: ProvisioningStepDefinition = { name: "instance-profile", provision, teardown: teardownNaming("instance-profile", teardown) };

// Step 4: the security group `dstack_security_group_[<subnet_us>_]<bucket_us>` in the subnet's
// VPC (or the region's default VPC), found by name and VPC; SSH (tcp/22) ingress reconciled with
// sshIngressCidrs: missing rules added, none duplicated; rules provisioning added for CIDRs no
// longer configured are removed from a group this backend created.
import {
  authorizeSsh,
  canonicalCidrs,
  createSecurityGroup,
  deleteSecurityGroup,
  findSecurityGroup,
  resolveVpc,
  revokeSsh,
  sshRulesOf,
  type SshRule,
  tagSecurityGroup,
} from "../../aws/provisioning/ec2.js";
import { collectStepError, combineStepErrors, throwIfAborted } from "../../aws/provisioning/failures.js";
import { securityGroupName } from "../../aws/names.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { CREATED_BY, RESOURCE_KIND, awsTarget, claimExisting, detail, recordsOf, teardownNaming } from "./common.js";

async function provision(context: StepContext): Promise<StepOutcome> {
  const { bucket, subnetId, region } = context.backend;
  const target = awsTarget(context);
  const cidrs = canonicalCidrs(context.sshIngressCidrs);
  const vpcId = await resolveVpc(target, subnetId);
  const name = securityGroupName(bucket, subnetId);
  const notes: string[] = [];

  const found = await findSecurityGroup(target, name, vpcId);
  let groupId: string;
  let existing: SshRule[];
  let ours: boolean;
  if (!found) {
    throwIfAborted(context.signal);
    groupId = await createSecurityGroup(target, {
      name,
      vpcId,
      description: `${CREATED_BY} bucket ${bucket}: SSH to its instances`,
      tags: context.tags,
    });
    await context.record({ kind: RESOURCE_KIND.securityGroup, identifier: groupId, details: { name, vpcId, region } });
    ours = true;
    existing = [];
    notes.push(`Created in ${vpcId}.`);
  } else {
    groupId = found.GroupId!;
    existing = sshRulesOf(found);
    const record = { kind: RESOURCE_KIND.securityGroup, identifier: groupId, details: { name, vpcId, region } };
    const notOurs = `Already existed in ${vpcId} (not created by this backend, so teardown leaves it).`;
    ours = await claimExisting(context, { record, tags: found.Tags, retag: (missing) => tagSecurityGroup(target, groupId, missing), notOurs }, notes);
  }

  const missing = cidrs.filter((cidr) => !existing.some((rule) => rule.cidr === cidr));
  if (missing.length) {
    throwIfAborted(context.signal);
    await authorizeSsh(target, groupId, missing);
    notes.push(`SSH allowed from ${missing.join(", ")}.`);
  }
  // SSH rules for CIDRs no longer configured: removed when provisioning added them to a group of
  // this backend; rules someone else added (no description of ours) or in a group that is not
  // ours are reported, not touched.
  const stale = existing.filter((rule) => !cidrs.includes(rule.cidr));
  const revocable = ours ? stale.filter((rule) => rule.ours).map((rule) => rule.cidr) : [];
  const others = stale.map((rule) => rule.cidr).filter((cidr) => !revocable.includes(cidr));
  if (revocable.length) {
    throwIfAborted(context.signal);
    await revokeSsh(target, groupId, revocable);
    notes.push(`SSH no longer allowed from ${revocable.join(", ")}.`);
  }
  if (others.length) notes.push(`Also allows SSH from ${others.join(", ")} (rules not added by provisioning; left as they are).`);
  if (notes.length === 0) notes.push("Already provisioned.");
  return { resourceId: groupId, message: notes.join(" ") };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const records = recordsOf(context, RESOURCE_KIND.securityGroup);
  if (records.length === 0) return { skipped: true, message: "Provisioning created no security group for this backend." };
  const notes: string[] = [];
  const errors = [];
  for (const record of records) {
    throwIfAborted(context.signal);
    const label = `${detail(record, "name") ?? "group"} (${record.identifier})`;
    const error = await collectStepError(async () => {
      const result = await deleteSecurityGroup(awsTarget(context, detail(record, "region")), record.identifier, label);
      await context.forget(record.kind, record.identifier);
      notes.push(result === "deleted" ? `Deleted ${label}.` : `${label} was already gone.`);
    });
    if (error) errors.push(error);
  }
  if (errors.length) throw combineStepErrors(errors);
  return { resourceId: records.map((r) => r.identifier).join(", "), message: notes.join(" ") };
}

export const securityGroupStep: ProvisioningStepDefinition = { name: "security-group", provision, teardown: teardownNaming("security-group", teardown) };

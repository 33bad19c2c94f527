// Thin EC2 operations for the security group. The default VPC is found through DescribeSubnets
// (default-for-az=true) because the seed's policy has no ec2:DescribeVpcs; a group is found by
// name AND VPC (the dstack hub filtered by name only, and could pick a group in another VPC).
import type { IpPermission, SecurityGroup } from "@aws-sdk/client-ec2";
import { PermanentStepError, TransientStepError } from "../../errors/step-errors.js";
import { parseCidr } from "./cidr.js";
import { isCode } from "../errors.js";
import { awsCall, awsValue } from "./failures.js";
import type { AwsTarget } from "./iam.js";
import type { Tag } from "../names.js";
import { sdk } from "../sdk.js";

function ec2Client(target: AwsTarget) {
  return target.session.factory.client("ec2", target.region, target.session.credentials);
}

/** The VPC of the backend's subnet, or of the region's default subnets when it has none. */
export async function resolveVpc(target: AwsTarget, subnetId: string | null): Promise<string> {
  const { DescribeSubnetsCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  if (subnetId) {
    const result = await awsCall(
      "ec2",
      "DescribeSubnets",
      { doing: `looking up subnet ${subnetId}`, parameter: `subnetId "${subnetId}"` },
      () => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] })),
      (failure) => failure.kind === "NOT_FOUND",
    );
    const vpcId = result.ok ? result.value.Subnets?.[0]?.VpcId : undefined;
    if (!vpcId) {
      throw new PermanentStepError(`Subnet ${subnetId} (parameter subnetId) does not exist in ${target.region}; choose another subnet for the backend.`);
    }
    return vpcId;
  }
  const subnets = await awsValue("ec2", "DescribeSubnets", { doing: `looking up the default VPC of ${target.region}` }, () =>
    ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] })),
  );
  const vpcId = subnets.Subnets?.find((s) => s.VpcId)?.VpcId;
  if (!vpcId) {
    throw new PermanentStepError(
      `Region ${target.region} has no default VPC (no default subnets); choose a subnet for the backend (parameter subnetId).`,
    );
  }
  return vpcId;
}

/** The group named `name` in `vpcId`, or null. */
export async function findSecurityGroup(target: AwsTarget, name: string, vpcId: string): Promise<SecurityGroup | null> {
  const { DescribeSecurityGroupsCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  const result = await awsValue("ec2", "DescribeSecurityGroups", { doing: `looking up security group ${name} in ${vpcId}` }, () =>
    ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "group-name", Values: [name] },
          { Name: "vpc-id", Values: [vpcId] },
        ],
      }),
    ),
  );
  return result.SecurityGroups?.find((group) => group.GroupName === name && group.VpcId === vpcId && group.GroupId) ?? null;
}

/** CreateSecurityGroup with tags. A group created concurrently (InvalidGroup.Duplicate) is retried, then found. */
export async function createSecurityGroup(
  target: AwsTarget,
  input: { name: string; vpcId: string; description: string; tags: Tag[] },
): Promise<string> {
  const { CreateSecurityGroupCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  const result = await awsCall(
    "ec2",
    "CreateSecurityGroup",
    { doing: `creating security group ${input.name} in ${input.vpcId}`, parameter: `the group name ${input.name} and VPC ${input.vpcId}` },
    () =>
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: input.name,
          Description: input.description,
          VpcId: input.vpcId,
          TagSpecifications: [{ ResourceType: "security-group", Tags: input.tags }],
        }),
      ),
    (failure) => failure.code === "InvalidGroup.Duplicate",
  );
  if (!result.ok || !result.value.GroupId) {
    throw new TransientStepError(`Security group ${input.name} appeared in ${input.vpcId} while it was being created; retrying finds it.`);
  }
  return result.value.GroupId;
}

export async function tagSecurityGroup(target: AwsTarget, groupId: string, tags: Tag[]): Promise<void> {
  const { CreateTagsCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  await awsValue("ec2", "CreateTags", { doing: `tagging security group ${groupId}` }, () =>
    ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: tags })),
  );
}

/** Canonical CIDRs from `cidrs`; a value that is not a CIDR fails naming the parameter. */
export function canonicalCidrs(cidrs: readonly string[]): string[] {
  const result: string[] = [];
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (!cidr) {
      throw new PermanentStepError(`"${text}" in sshIngressCidrs (SSH_INGRESS_CIDRS) is not an IPv4 or IPv6 CIDR such as 203.0.113.0/24.`);
    }
    if (!result.includes(cidr.canonical)) result.push(cidr.canonical);
  }
  return result;
}

const SSH_PORT = 22;

function isSshRule(permission: IpPermission): boolean {
  return permission.IpProtocol === "tcp" && permission.FromPort === SSH_PORT && permission.ToPort === SSH_PORT;
}

/** The description provisioning puts on the SSH rules it adds; rules without it are someone else's. */
export const SSH_RULE_DESCRIPTION = "SSH to dstack instances (backend-hub)";

export interface SshRule {
  /** Canonical CIDR. */
  cidr: string;
  /** Added by provisioning (carries SSH_RULE_DESCRIPTION). */
  ours: boolean;
}

/** The group's ingress rules for exactly tcp/22, by source CIDR. */
export function sshRulesOf(group: SecurityGroup): SshRule[] {
  const rules = new Map<string, boolean>();
  const add = (cidr: string, description: string | undefined) => {
    const canonical = parseCidr(cidr)?.canonical ?? cidr;
    rules.set(canonical, (rules.get(canonical) ?? false) || description === SSH_RULE_DESCRIPTION);
  };
  for (const permission of group.IpPermissions ?? []) {
    if (!isSshRule(permission)) continue;
    for (const range of permission.IpRanges ?? []) if (range.CidrIp) add(range.CidrIp, range.Description);
    for (const range of permission.Ipv6Ranges ?? []) if (range.CidrIpv6) add(range.CidrIpv6, range.Description);
  }
  return [...rules].map(([cidr, ours]) => ({ cidr, ours }));
}

function sshPermission(cidrs: readonly string[]): IpPermission {
  const v4 = cidrs.filter((c) => !c.includes(":"));
  const v6 = cidrs.filter((c) => c.includes(":"));
  return {
    IpProtocol: "tcp",
    FromPort: SSH_PORT,
    ToPort: SSH_PORT,
    ...(v4.length ? { IpRanges: v4.map((CidrIp) => ({ CidrIp, Description: SSH_RULE_DESCRIPTION })) } : {}),
    ...(v6.length ? { Ipv6Ranges: v6.map((CidrIpv6) => ({ CidrIpv6, Description: SSH_RULE_DESCRIPTION })) } : {}),
  };
}

/**
 * Adds tcp/22 ingress from each of `cidrs`. Rules are added in one call; when some rule exists
 * after all (added concurrently: InvalidPermission.Duplicate fails the whole call), one by one.
 */
export async function authorizeSsh(target: AwsTarget, groupId: string, cidrs: readonly string[]): Promise<void> {
  const { AuthorizeSecurityGroupIngressCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  if (cidrs.length === 0) return;
  const send = (list: readonly string[]) =>
    awsCall(
      "ec2",
      "AuthorizeSecurityGroupIngress",
      { doing: `allowing SSH from ${list.join(", ")} in security group ${groupId}`, parameter: `sshIngressCidrs (${list.join(", ")})` },
      () => ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [sshPermission(list)] })),
      (failure) => failure.code === "InvalidPermission.Duplicate",
    );
  const all = await send(cidrs);
  if (all.ok || cidrs.length === 1) return;
  for (const cidr of cidrs) await send([cidr]);
}

/** Removes tcp/22 ingress from each of `cidrs` (needs ec2:RevokeSecurityGroupIngress, beyond the seed's policy). */
export async function revokeSsh(target: AwsTarget, groupId: string, cidrs: readonly string[]): Promise<void> {
  const { RevokeSecurityGroupIngressCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  if (cidrs.length === 0) return;
  await awsCall(
    "ec2",
    "RevokeSecurityGroupIngress",
    {
      doing: `removing SSH access from ${cidrs.join(", ")} (no longer in sshIngressCidrs) in security group ${groupId}`,
      leftBehind: `SSH ingress from ${cidrs.join(", ")} in security group ${groupId}`,
    },
    () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [sshPermission(cidrs)] })),
    (failure) => failure.code === "InvalidPermission.NotFound",
  );
}

/**
 * DeleteSecurityGroup; "gone" when it no longer exists. A group still used by instances or network
 * interfaces (DependencyViolation) is transient: instances being terminated release it shortly.
 */
export async function deleteSecurityGroup(target: AwsTarget, groupId: string, label: string): Promise<"deleted" | "gone"> {
  const { DeleteSecurityGroupCommand } = await sdk.ec2();
  const ec2 = await ec2Client(target);
  const leftBehind = `security group ${label}`;
  const result = await awsCall(
    "ec2",
    "DeleteSecurityGroup",
    { doing: `deleting security group ${label}`, leftBehind },
    () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
    (failure) => failure.kind === "NOT_FOUND" || isCode(failure, "DependencyViolation"),
  );
  if (result.ok) return "deleted";
  if (result.error.kind === "NOT_FOUND") return "gone";
  throw new TransientStepError(
    `Security group ${label} is still in use by instances or network interfaces; terminate them and retry the teardown. Left behind: ${leftBehind}.`,
  );
}

// The drift part of a pass: every resource provisioning recorded for the backend is read back.
// - role: still there, still trusted by EC2;       - role-policy attachment: still attached;
// - instance profile: still there, still holds the role;
// - security group: still there, SSH open from each configured CIDR, no stale rule of ours;
// - log groups: still there;                      - lifecycle rules: still there, unchanged.
// A difference is RESOURCE_MISSING or RESOURCE_CHANGED (action REPORTED). A resource AWS reports
// gone has its record dropped, so that provisionBackend creates it again. A read that is denied is
// a CHECK_DENIED finding naming the action, never a failure of the pass.
import type { LifecycleRule } from "@aws-sdk/client-s3";
import type { AwsSession } from "../aws/discovery.js";
import type { AwsFailure, AwsResult } from "../aws/errors.js";
import { instanceRoleName } from "../aws/names.js";
import { canonicalCidrs, sshRulesOf } from "../aws/provisioning/ec2.js";
import { dstackLifecycleRules, LIFECYCLE_RULE_IDS, ruleStyleOf, sameRule } from "../aws/provisioning/s3-lifecycle.js";
import { attachedPolicyArns, instanceProfileRoles, readRole } from "../aws/reconciliation/iam-reads.js";
import { lifecycleRules, logGroupPresent, readSecurityGroup } from "../aws/reconciliation/resource-reads.js";
import type { BackendResource } from "../generated/prisma/client.js";
import { RESOURCE_KIND } from "../provisioning/index.js";
import type { Observation } from "./findings.js";

export interface DriftInput {
  session: AwsSession;
  region: string;
  bucket: string;
  sshIngressCidrs: readonly string[];
  records: readonly BackendResource[];
}

export interface DriftResult {
  observed: Observation[];
  /** Records of resources AWS reports gone. */
  gone: BackendResource[];
  /** False when a read failed for a reason other than a denial: nothing can be concluded this pass. */
  looked: boolean;
}

const detail = (record: BackendResource, key: string): string | undefined => {
  const value = (record.details as Record<string, unknown> | null)?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
};

class Inconclusive extends Error {}

export async function checkDrift(input: DriftInput): Promise<DriftResult> {
  const result: DriftResult = { observed: [], gone: [], looked: true };
  const found = (resourceType: string, resourceId: string) => (kind: "RESOURCE_MISSING" | "RESOURCE_CHANGED", message: string) =>
    result.observed.push({ kind, action: "REPORTED", resourceType, resourceId, message });
  /** The value of a read; undefined (and a finding) when it was denied; throws when inconclusive. */
  const read = <T>(answer: AwsResult<T>, resourceType: string, resourceId: string): T | undefined => {
    if (answer.ok) return answer.value;
    if (answer.error.kind === "ACCESS_DENIED") {
      result.observed.push({ kind: "CHECK_DENIED", action: "REPORTED", resourceType, resourceId, message: deniedMessage(answer.error, resourceType) });
      return undefined;
    }
    throw new Inconclusive(answer.error.message);
  };
  const goneRecord = (record: BackendResource, resourceType: string, message: string) => {
    found(resourceType, record.identifier)("RESOURCE_MISSING", message);
    result.gone.push(record);
  };
  const { session, region, bucket } = input;
  try {
    for (const record of input.records) {
      const name = detail(record, "name") ?? record.identifier.slice(record.identifier.lastIndexOf("/") + 1);
      switch (record.kind) {
        case RESOURCE_KIND.role: {
          const role = read(await readRole(session, region, name), "iam:role", record.identifier);
          if (role === null) goneRecord(record, "iam:role", `IAM role ${name} no longer exists.`);
          else if (role && !role.trustsEc2) found("iam:role", record.identifier)("RESOURCE_CHANGED", `The trust policy of IAM role ${name} no longer lets EC2 (ec2.amazonaws.com) assume it.`);
          break;
        }
        case RESOURCE_KIND.rolePolicyAttachment: {
          const roleName = detail(record, "roleName") ?? record.identifier.split(":")[0]!;
          const policyArn = detail(record, "policyArn") ?? record.identifier.slice(roleName.length + 1);
          const arns = read(await attachedPolicyArns(session, region, roleName), "iam:role-policy-attachment", record.identifier);
          if (arns !== undefined && !arns?.includes(policyArn)) goneRecord(record, "iam:role-policy-attachment", `Policy ${policyArn} is no longer attached to IAM role ${roleName}.`);
          break;
        }
        case RESOURCE_KIND.instanceProfile: {
          const roles = read(await instanceProfileRoles(session, region, name), "iam:instance-profile", record.identifier);
          const expected = instanceRoleName(bucket);
          if (roles === null) goneRecord(record, "iam:instance-profile", `Instance profile ${name} no longer exists.`);
          else if (roles && !roles.includes(expected)) {
            found("iam:instance-profile", record.identifier)("RESOURCE_CHANGED", `Instance profile ${name} no longer holds role ${expected} (it holds: ${roles.join(", ") || "none"}).`);
          }
          break;
        }
        case RESOURCE_KIND.securityGroup:
          await checkSecurityGroup(input, record, read, found, goneRecord);
          break;
        case RESOURCE_KIND.logGroup: {
          const present = read(await logGroupPresent(session, detail(record, "region") ?? region, record.identifier), "logs:log-group", record.identifier);
          if (present === false) goneRecord(record, "logs:log-group", `Log group ${record.identifier} no longer exists.`);
          break;
        }
        default:
          break; // the policy itself cannot be read under the seed's policy (no iam:GetPolicy); lifecycle rules below
      }
    }
    await checkLifecycleRules(input, read, found, goneRecord);
  } catch (error) {
    if (!(error instanceof Inconclusive)) throw error;
    return { observed: [], gone: [], looked: false };
  }
  return result;
}

type Read = <T>(answer: AwsResult<T>, resourceType: string, resourceId: string) => T | undefined;
type Found = (resourceType: string, resourceId: string) => (kind: "RESOURCE_MISSING" | "RESOURCE_CHANGED", message: string) => void;
type Gone = (record: BackendResource, resourceType: string, message: string) => void;

async function checkSecurityGroup(input: DriftInput, record: BackendResource, read: Read, found: Found, gone: Gone): Promise<void> {
  const groupId = record.identifier;
  const group = read(await readSecurityGroup(input.session, detail(record, "region") ?? input.region, groupId), "ec2:security-group", groupId);
  if (group === undefined) return;
  if (group === null) return gone(record, "ec2:security-group", `Security group ${groupId} (${detail(record, "name") ?? "the backend's"}) no longer exists.`);
  const rules = sshRulesOf(group);
  const wanted = canonicalCidrs(input.sshIngressCidrs);
  for (const cidr of wanted.filter((c) => !rules.some((rule) => rule.cidr === c))) {
    found("ec2:security-group-rule", `${groupId}:tcp/22:${cidr}`)("RESOURCE_MISSING", `Security group ${groupId} no longer allows SSH (tcp/22) from ${cidr}.`);
  }
  for (const rule of rules.filter((r) => r.ours && !wanted.includes(r.cidr))) {
    found("ec2:security-group-rule", `${groupId}:tcp/22:${rule.cidr}`)("RESOURCE_CHANGED", `Security group ${groupId} allows SSH from ${rule.cidr}, which SSH_INGRESS_CIDRS no longer lists.`);
  }
}

async function checkLifecycleRules(input: DriftInput, read: Read, found: Found, gone: Gone): Promise<void> {
  const records = input.records.filter((record) => record.kind === RESOURCE_KIND.lifecycleRule);
  const buckets = [...new Set(records.map((record) => detail(record, "bucket") ?? input.bucket))];
  for (const bucket of buckets) {
    const mine = records.filter((record) => (detail(record, "bucket") ?? input.bucket) === bucket);
    const rules = read(await lifecycleRules(input.session, detail(mine[0]!, "region") ?? input.region, bucket), "s3:lifecycle-rule", bucket);
    if (rules === undefined) continue;
    const theirs = (rules ?? []).filter((rule) => !LIFECYCLE_RULE_IDS.includes(rule.ID ?? ""));
    const desired = dstackLifecycleRules(ruleStyleOf(theirs));
    for (const record of mine) {
      const ruleId = detail(record, "ruleId") ?? record.identifier.slice(record.identifier.indexOf(":") + 1);
      const actual: LifecycleRule | undefined = (rules ?? []).find((rule) => rule.ID === ruleId);
      const expected = desired.find((rule) => rule.ID === ruleId);
      if (!actual) gone(record, "s3:lifecycle-rule", rules === null ? `Bucket ${bucket} no longer exists (lifecycle rule ${ruleId}).` : `Lifecycle rule ${ruleId} is no longer on bucket ${bucket}.`);
      else if (expected && !sameRule(actual, expected)) found("s3:lifecycle-rule", record.identifier)("RESOURCE_CHANGED", `Lifecycle rule ${ruleId} on bucket ${bucket} was changed.`);
    }
  }
}

function deniedMessage(failure: AwsFailure, resourceType: string): string {
  return `Could not check the ${resourceType} (${failure.action} denied); grant it to let the reconciler watch this resource (see docs/permissions.md).`;
}

// What the provisioning steps share: the kinds of resources they record, and reading the record.
import { hasAllTags, missingTags, type Tag } from "../../aws/names.js";
import { throwIfAborted, withNeededActions } from "../../aws/provisioning/failures.js";
import type { AwsTarget } from "../../aws/provisioning/iam.js";
import type { RecordedResource, StepContext, StepOutcome } from "../step.js";
import { TEARDOWN_ACTIONS_BEYOND_SEED } from "./permissions.js";

/** Kinds of recorded resources. Teardown deletes exactly the recorded ones. */
export const RESOURCE_KIND = {
  /** identifier: policy ARN; details: { name, documentSha256 } */
  policy: "iam-policy",
  /** identifier: role ARN; details: { name } */
  role: "iam-role",
  /** identifier: "<role name>:<policy ARN>"; details: { roleName, policyArn } */
  rolePolicyAttachment: "iam-role-policy-attachment",
  /** identifier: instance profile ARN; details: { name } */
  instanceProfile: "iam-instance-profile",
  /** identifier: group id; details: { name, vpcId, region } */
  securityGroup: "ec2-security-group",
  /** identifier: log group name; details: { region } */
  logGroup: "logs-log-group",
  /** identifier: "<bucket>:<rule id>"; details: { bucket, ruleId, region } */
  lifecycleRule: "s3-lifecycle-rule",
} as const;

export function awsTarget(context: StepContext, region = context.backend.region): AwsTarget {
  return { session: context.session, region };
}

/** Records of `kind` (read afresh: `forget` replaces the list). */
export function recordsOf(context: StepContext, kind: string): RecordedResource[] {
  return context.recorded.filter((resource) => resource.kind === kind);
}

export function isRecorded(context: StepContext, kind: string, identifier: string): boolean {
  return context.recorded.some((resource) => resource.kind === kind && resource.identifier === identifier);
}

/** Records a resource unless it already is (records are per backend, kind and identifier). */
export async function recordOnce(context: StepContext, resource: RecordedResource): Promise<void> {
  if (!isRecorded(context, resource.kind, resource.identifier)) await context.record(resource);
}

export function detail(resource: RecordedResource, key: string): string | undefined {
  const value = resource.details?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export const CREATED_BY = "Created by backend-hub for dstack";

/** The note for a resource found under our name that another run or someone else created. */
export const NOT_OURS_NOTE = "Already existed (not created by this backend, so teardown leaves it).";

export interface ExistingResource {
  /** How it is recorded if it is ours. */
  record: RecordedResource;
  /** Its tags as AWS lists them. */
  tags: readonly { Key?: string; Value?: string }[] | undefined;
  /** Adds the tags it lacks. */
  retag: (missing: Tag[]) => Promise<void>;
  /** The note when it is not ours; default NOT_OURS_NOTE. */
  notOurs?: string;
}

/**
 * Whether a resource found under our name is ours: recorded, or tagged for this backend (created
 * by a run that stopped before recording it: adopted, and recorded now). Ours gets back any tag it
 * lost. What happened is added to `notes`; a resource that is not ours is used but never deleted.
 */
export async function claimExisting(context: StepContext, found: ExistingResource, notes: string[]): Promise<boolean> {
  let ours = isRecorded(context, found.record.kind, found.record.identifier);
  if (!ours && hasAllTags(found.tags, context.tags)) {
    await context.record(found.record);
    ours = true;
    notes.push("Found, tagged for this backend (created by an interrupted run); adopted.");
  }
  if (!ours) {
    notes.push(found.notOurs ?? NOT_OURS_NOTE);
    return false;
  }
  const missing = missingTags(found.tags, context.tags);
  if (missing.length) {
    throwIfAborted(context.signal);
    await found.retag(missing);
    notes.push(`Restored tags ${missing.map((t) => t.Key).join(", ")}.`);
  }
  return true;
}

/** A step's teardown whose missing-permission failures also list every action it needs beyond the seed. */
export function teardownNaming(stepName: string, teardown: (context: StepContext) => Promise<StepOutcome>) {
  return async (context: StepContext): Promise<StepOutcome> => {
    try {
      return await teardown(context);
    } catch (error) {
      throw withNeededActions(error, TEARDOWN_ACTIONS_BEYOND_SEED[stepName] ?? [], "Teardown of this step");
    }
  };
}

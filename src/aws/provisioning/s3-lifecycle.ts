// The bucket's lifecycle configuration, shared with the user: provisioning adds its own rules
// (by ID) next to the user's and never changes or drops theirs; teardown removes only its own.
// S3 has one configuration per bucket and PutBucketLifecycleConfiguration replaces all of it, so
// every write sends the user's rules back exactly as they were read.
import type { LifecycleRule, TransitionDefaultMinimumObjectSize } from "@aws-sdk/client-s3";
import { PermanentStepError } from "../../errors/step-errors.js";
import { awsCall } from "./failures.js";
import type { AwsTarget } from "./iam.js";
import { sdk } from "../sdk.js";

export const ABORT_MULTIPART_RULE_ID = "dstack-abort-incomplete-multipart";
export const EXPIRE_TMP_RULE_ID = "dstack-expire-tmp";
export const LIFECYCLE_RULE_IDS: readonly string[] = [ABORT_MULTIPART_RULE_ID, EXPIRE_TMP_RULE_ID];
export const TMP_PREFIX = "tmp/";
export const LIFECYCLE_DAYS = 7;

/**
 * Our rules. `style` follows the bucket's existing rules: S3 rejects a configuration that mixes
 * rules with the old top-level Prefix and rules with a Filter.
 */
export function dstackLifecycleRules(style: "filter" | "prefix" = "filter"): LifecycleRule[] {
  const scope = (prefix: string) => (style === "prefix" ? { Prefix: prefix } : { Filter: { Prefix: prefix } });
  return [
    {
      ID: ABORT_MULTIPART_RULE_ID,
      Status: "Enabled",
      ...scope(""),
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: LIFECYCLE_DAYS },
    },
    {
      ID: EXPIRE_TMP_RULE_ID,
      Status: "Enabled",
      ...scope(TMP_PREFIX),
      Expiration: { Days: LIFECYCLE_DAYS },
    },
  ];
}

/** The rule style of an existing configuration: "prefix" when any rule uses the top-level Prefix. */
export function ruleStyleOf(rules: readonly LifecycleRule[]): "filter" | "prefix" {
  return rules.some((rule) => rule.Prefix !== undefined && rule.Filter === undefined) ? "prefix" : "filter";
}

/** Plain data with undefined, null and empty arrays/objects dropped and keys sorted, for comparison. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalized).filter((item) => item !== undefined);
    return items.length ? items : undefined;
  }
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, normalized((value as Record<string, unknown>)[key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value ?? undefined;
}

/** A rule in one comparable form: a Filter with only a Prefix counts the same as a top-level Prefix. */
function comparable(rule: LifecycleRule): string {
  const { Prefix, Filter, ...rest } = rule;
  const filter = normalized(Filter) as Record<string, unknown> | undefined;
  const filterPrefixOnly = filter === undefined || Object.keys(filter).every((key) => key === "Prefix");
  const prefix = filterPrefixOnly ? ((filter?.Prefix as string | undefined) ?? Prefix ?? "") : Prefix;
  return JSON.stringify(normalized({ ...rest, prefix, filter: filterPrefixOnly ? undefined : filter }));
}

export function sameRule(a: LifecycleRule, b: LifecycleRule): boolean {
  return comparable(a) === comparable(b);
}

/**
 * `existing` with each of `desired` in place: a rule with the same ID is replaced where it stands
 * (only when different), a missing one is appended; every other rule is kept as it is.
 * `changed` lists the IDs that were added or replaced.
 */
export function mergeLifecycleRules(existing: readonly LifecycleRule[], desired: readonly LifecycleRule[]): { rules: LifecycleRule[]; changed: string[] } {
  const changed: string[] = [];
  const byId = new Map(desired.map((rule) => [rule.ID, rule]));
  const rules = existing.map((rule) => {
    const wanted = rule.ID !== undefined ? byId.get(rule.ID) : undefined;
    if (!wanted) return rule;
    if (!sameRule(rule, wanted)) changed.push(wanted.ID as string);
    return sameRule(rule, wanted) ? rule : wanted;
  });
  for (const rule of desired) {
    if (!existing.some((other) => other.ID === rule.ID)) {
      rules.push(rule);
      changed.push(rule.ID as string);
    }
  }
  return { rules, changed };
}

/** `existing` without the rules whose ID is in `ids`. */
export function withoutLifecycleRules(existing: readonly LifecycleRule[], ids: readonly string[]): LifecycleRule[] {
  return existing.filter((rule) => rule.ID === undefined || !ids.includes(rule.ID));
}

export interface LifecycleConfiguration {
  rules: LifecycleRule[];
  /** Kept as read, so a write does not change the bucket's setting. */
  transitionDefaultMinimumObjectSize?: TransitionDefaultMinimumObjectSize;
}

function s3Client(target: AwsTarget) {
  return target.session.factory.client("s3", target.region, target.session.credentials);
}

/** The bucket's rules; none when it has no configuration; null when the bucket does not exist. */
export async function getLifecycle(target: AwsTarget, bucket: string): Promise<LifecycleConfiguration | null> {
  const { GetBucketLifecycleConfigurationCommand } = await sdk.s3();
  const s3 = await s3Client(target);
  const result = await awsCall(
    "s3",
    "GetBucketLifecycleConfiguration",
    { doing: `reading the lifecycle rules of bucket ${bucket}` },
    () => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
    (failure) => failure.code === "NoSuchLifecycleConfiguration" || failure.code === "NoSuchBucket",
  );
  if (!result.ok) return result.error.code === "NoSuchBucket" ? null : { rules: [] };
  return {
    rules: result.value.Rules ?? [],
    ...(result.value.TransitionDefaultMinimumObjectSize ? { transitionDefaultMinimumObjectSize: result.value.TransitionDefaultMinimumObjectSize } : {}),
  };
}

/** Same as getLifecycle, failing with the parameter named when the bucket does not exist. */
export async function requireLifecycle(target: AwsTarget, bucket: string): Promise<LifecycleConfiguration> {
  const configuration = await getLifecycle(target, bucket);
  if (!configuration) throw new PermanentStepError(`Bucket ${bucket} (parameter bucket) does not exist; create it or choose another bucket.`);
  return configuration;
}

export async function putLifecycle(target: AwsTarget, bucket: string, configuration: LifecycleConfiguration, leftBehind?: string): Promise<void> {
  const { PutBucketLifecycleConfigurationCommand } = await sdk.s3();
  const s3 = await s3Client(target);
  await awsCall(
    "s3",
    "PutBucketLifecycleConfiguration",
    {
      doing: `writing the lifecycle rules of bucket ${bucket}`,
      parameter: `the lifecycle rules of bucket ${bucket}`,
      ...(leftBehind ? { leftBehind } : {}),
    },
    () =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: configuration.rules },
          ...(configuration.transitionDefaultMinimumObjectSize
            ? { TransitionDefaultMinimumObjectSize: configuration.transitionDefaultMinimumObjectSize }
            : {}),
        }),
      ),
  );
}

/** DeleteBucketLifecycle (IAM: s3:PutLifecycleConfiguration); a missing bucket or configuration is fine. */
export async function deleteLifecycle(target: AwsTarget, bucket: string, leftBehind?: string): Promise<void> {
  const { DeleteBucketLifecycleCommand } = await sdk.s3();
  const s3 = await s3Client(target);
  await awsCall(
    "s3",
    "DeleteBucketLifecycle",
    { doing: `removing the lifecycle configuration of bucket ${bucket}`, ...(leftBehind ? { leftBehind } : {}) },
    () => s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket })),
    (failure) => failure.kind === "NOT_FOUND",
  );
}

// Step 6: lifecycle rules on the bucket: abort multipart uploads left incomplete for 7 days, and
// expire objects under tmp/ after 7 days. Merged with the bucket's own rules, which are never
// changed or dropped; written only when one of ours is missing or differs. Teardown removes our
// rules by ID and keeps the user's (DeleteBucketLifecycle when none is left).
import { throwIfAborted } from "../../aws/provisioning/failures.js";
import {
  deleteLifecycle,
  dstackLifecycleRules,
  getLifecycle,
  LIFECYCLE_RULE_IDS,
  mergeLifecycleRules,
  putLifecycle,
  requireLifecycle,
  ruleStyleOf,
  withoutLifecycleRules,
} from "../../aws/provisioning/s3-lifecycle.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { RESOURCE_KIND, awsTarget, detail, recordOnce, recordsOf, teardownNaming } from "./common.js";

export function lifecycleRuleIdentifier(bucket: string, ruleId: string): string {
  return `${bucket}:${ruleId}`;
}

async function provision(context: StepContext): Promise<StepOutcome> {
  const { bucket } = context.backend;
  const target = awsTarget(context);
  const resourceId = `s3://${bucket} rules ${LIFECYCLE_RULE_IDS.join(", ")}`;
  const configuration = await requireLifecycle(target, bucket);
  const theirs = configuration.rules.filter((rule) => !LIFECYCLE_RULE_IDS.includes(rule.ID ?? ""));
  const merged = mergeLifecycleRules(configuration.rules, dstackLifecycleRules(ruleStyleOf(theirs)));
  if (merged.changed.length === 0) return { resourceId, message: "Already provisioned." };
  throwIfAborted(context.signal);
  await putLifecycle(target, bucket, { ...configuration, rules: merged.rules });
  for (const ruleId of merged.changed) {
    await recordOnce(context, {
      kind: RESOURCE_KIND.lifecycleRule,
      identifier: lifecycleRuleIdentifier(bucket, ruleId),
      details: { bucket, ruleId, region: target.region },
    });
  }
  const kept = theirs.length ? ` Kept the bucket's ${theirs.length} other rule${theirs.length === 1 ? "" : "s"}.` : "";
  return { resourceId, message: `Set rules ${merged.changed.join(", ")}.${kept}` };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const records = recordsOf(context, RESOURCE_KIND.lifecycleRule);
  if (records.length === 0) return { skipped: true, message: "Provisioning added no lifecycle rule to the bucket." };
  const notes: string[] = [];
  const buckets = [...new Set(records.map((r) => detail(r, "bucket") ?? context.backend.bucket))];
  for (const bucket of buckets) {
    const mine = records.filter((r) => (detail(r, "bucket") ?? context.backend.bucket) === bucket);
    const ruleIds = mine.map((r) => detail(r, "ruleId") ?? r.identifier.slice(r.identifier.indexOf(":") + 1));
    const target = awsTarget(context, detail(mine[0], "region"));
    const configuration = await getLifecycle(target, bucket);
    const remaining = configuration ? withoutLifecycleRules(configuration.rules, ruleIds) : [];
    const removed = configuration ? configuration.rules.length - remaining.length : 0;
    if (configuration && removed > 0) {
      throwIfAborted(context.signal);
      const leftBehind = `lifecycle rules ${ruleIds.join(", ")} on bucket ${bucket}`;
      if (remaining.length === 0) await deleteLifecycle(target, bucket, leftBehind);
      else await putLifecycle(target, bucket, { ...configuration, rules: remaining }, leftBehind);
      notes.push(
        `Removed rules ${ruleIds.join(", ")} from ${bucket}` +
          (remaining.length ? `; kept the bucket's ${remaining.length} other rule${remaining.length === 1 ? "" : "s"}.` : "."),
      );
    } else {
      notes.push(`Rules ${ruleIds.join(", ")} were already gone from ${bucket}.`);
    }
    for (const record of mine) await context.forget(record.kind, record.identifier);
  }
  return { resourceId: records.map((r) => r.identifier).join(", "), message: notes.join(" ") };
}

export const bucketLifecycleStep: ProvisioningStepDefinition = { name: "bucket-lifecycle", provision, teardown: teardownNaming("bucket-lifecycle", teardown) };

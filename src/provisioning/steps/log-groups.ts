// Step 5: the CloudWatch log groups `/dstack/jobs/<bucket>` and `/dstack/runners/<bucket>`.
// DescribeLogGroups first; each missing group is created with tags. A group that already existed
// is left alone by teardown (DescribeLogGroups returns no tags, and the seed's policy has no
// logs:ListTagsForResource, so one created by an interrupted run cannot be recognised).
import { createLogGroup, deleteLogGroup, logGroupExists } from "../../aws/provisioning/logs.js";
import { collectStepError, combineStepErrors, throwIfAborted } from "../../aws/provisioning/failures.js";
import { logGroupNames } from "../../aws/names.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "../step.js";
import { RESOURCE_KIND, awsTarget, detail, isRecorded, recordsOf, teardownNaming } from "./common.js";

async function provision(context: StepContext): Promise<StepOutcome> {
  const target = awsTarget(context);
  const names = logGroupNames(context.backend.bucket);
  const exists = await Promise.all(names.map((name) => logGroupExists(target, name)));
  const notes: string[] = [];
  for (const [index, name] of names.entries()) {
    if (exists[index]) {
      if (!isRecorded(context, RESOURCE_KIND.logGroup, name)) notes.push(`${name} already existed (not created by this backend, so teardown leaves it).`);
      continue;
    }
    throwIfAborted(context.signal);
    const result = await createLogGroup(target, name, context.tags);
    if (result === "created") {
      await context.record({ kind: RESOURCE_KIND.logGroup, identifier: name, details: { region: target.region } });
      notes.push(`Created ${name}.`);
    } else {
      notes.push(`${name} was created meanwhile by someone else; left to them.`);
    }
  }
  if (notes.length === 0) notes.push("Already provisioned.");
  return { resourceId: names.join(", "), message: notes.join(" ") };
}

async function teardown(context: StepContext): Promise<StepOutcome> {
  const records = recordsOf(context, RESOURCE_KIND.logGroup);
  if (records.length === 0) return { skipped: true, message: "Provisioning created no log group for this backend." };
  const notes: string[] = [];
  const errors = [];
  for (const record of records) {
    throwIfAborted(context.signal);
    const error = await collectStepError(async () => {
      const result = await deleteLogGroup(awsTarget(context, detail(record, "region")), record.identifier);
      await context.forget(record.kind, record.identifier);
      notes.push(result === "deleted" ? `Deleted ${record.identifier}.` : `${record.identifier} was already gone.`);
    });
    if (error) errors.push(error);
  }
  if (errors.length) throw combineStepErrors(errors);
  return { resourceId: records.map((r) => r.identifier).join(", "), message: notes.join(" ") };
}

export const logGroupsStep: ProvisioningStepDefinition = { name: "log-groups", provision, teardown: teardownNaming("log-groups", teardown) };

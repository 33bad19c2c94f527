// Changes the reconciler makes to Instance records: each applies only while the record is still
// live (a concurrent terminate or sync wins), publishes the new state, and reports the action.
import { toInstanceView } from "../compute/instance-view.js";
import type { Instance } from "../generated/prisma/client.js";
import type { InstanceStatus } from "../generated/prisma/enums.js";
import { recordAction, recordActionOnce, type Observation } from "./findings.js";
import { eventOf, type PassContext } from "./pass-context.js";

/** Records the reconciler treats as live (it leaves TERMINATING ones to the instance sync). */
export const RECONCILED_STATUSES: readonly InstanceStatus[] = ["PENDING", "RUNNING", "NO_CAPACITY"];
/** Records that stand for something EC2 may run: an instance listed for one of these is not an orphan. */
export const LIVE_STATUSES: readonly InstanceStatus[] = ["PENDING", "RUNNING", "TERMINATING", "NO_CAPACITY"];

type RecordChange = Partial<Pick<Instance, "status" | "statusReason" | "awsInstanceId" | "spotRequestId" | "terminatedAt">>;
/** What changing records needs: outside a pass too (the instance sync reports instances gone). */
export type RecordContext = Pick<PassContext, "prisma" | "backend" | "now" | "publishInstance" | "report">;

/** Applies `data` if the record is still in one of `from`; true when it did. */
export async function changeRecord(context: RecordContext, id: string, from: readonly InstanceStatus[], data: RecordChange): Promise<boolean> {
  const { count } = await context.prisma.instance.updateMany({ where: { id, status: { in: [...from] } }, data });
  if (count === 0) return false;
  context.publishInstance(toInstanceView(await context.prisma.instance.findUniqueOrThrow({ where: { id } })));
  return true;
}

/** Records and reports a one-off action of the pass. */
export async function recordPassAction(context: PassContext, operation: "reconciler.terminate" | "reconciler.mark-terminated", observation: Observation): Promise<void> {
  await recordAction(context.prisma, context.backend.id, observation, context.now);
  context.report(eventOf(context, operation, observation));
}

/**
 * A live record whose instance EC2 reports terminated or no longer lists: TERMINATED with the reason,
 * and an INSTANCE_GONE finding (once per instance, whoever notices first: a pass or the sync). Only
 * while the record is still PENDING, RUNNING or NO_CAPACITY: one the service is terminating (a user,
 * or a time limit) was ended on purpose and is not reported.
 */
export async function markGone(context: RecordContext, row: Instance, reason: string): Promise<boolean> {
  const changed = await changeRecord(context, row.id, RECONCILED_STATUSES, { status: "TERMINATED", statusReason: reason, terminatedAt: context.now });
  if (changed) await recordGone(context, row, reason);
  return changed;
}

async function recordGone(context: RecordContext, row: Instance, reason: string): Promise<void> {
  const observation: Observation = {
    kind: "INSTANCE_GONE",
    action: "MARKED_TERMINATED",
    resourceType: "ec2:instance",
    resourceId: row.awsInstanceId ?? row.id,
    message: `Instance ${row.name} (${row.awsInstanceId ?? "no EC2 id"}) was live in the database but EC2 reports it gone; marked TERMINATED. Reason: ${reason}`,
  };
  if (await recordActionOnce(context.prisma, row.backendId, observation)) {
    context.report({ operation: "reconciler.mark-terminated", backendId: row.backendId, projectId: context.backend.projectId, ...observation });
  }
}

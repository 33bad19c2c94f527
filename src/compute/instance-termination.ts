// Terminating an instance record until EC2 confirms it. EC2 is eventually consistent: a new
// instance may not be listed (by its id or by its ClientToken tag) for a while, so "not listed" is
// never taken for "gone". The record is TERMINATING from the moment termination is asked for
// (terminationRequestedAt) and becomes TERMINATED only when EC2 reports the instance terminated.
// terminateInstance and then every sync round pursue it: TerminateInstances by id as soon as the id
// is known (from the launch's answer or its ClientToken tag), again until EC2 reports it ended.
// Only a launch that EC2 has not listed long after the fact (it never started, or it ended and EC2
// forgot it) is closed without that report.
import { lookupByToken, normalizeClientToken } from "../aws/compute/launch.js";
import { terminateInstance, type TerminateOutcome } from "../aws/compute/terminate.js";
import type { Instance } from "../generated/prisma/client.js";
import type { UserErrorData } from "../errors/codes.js";
import { notFound } from "../errors/validation.js";
import type { ScopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";
import { isEnded, type InstanceChange, type InstanceRecords } from "./instance-records.js";
import { toInstanceView, type InstanceView } from "./instance-view.js";

/** EC2 lists a new instance within minutes; an id it still does not know after this is gone. */
export const LISTING_DELAY_MS = 5 * 60_000;
/** A launch that EC2 still does not list by its ClientToken after this long never started. */
export const UNFINISHED_LAUNCH_MS = 10 * 60_000;

export interface TerminationResult {
  instance?: InstanceView;
  userErrors: UserErrorData[];
}

type Ids = Pick<Instance, "awsInstanceId" | "spotRequestId">;

const hasIds = (ids: Ids) => Boolean(ids.awsInstanceId || ids.spotRequestId);
const olderThan = (row: Instance, ms: number, now = Date.now()) => now - row.createdAt.getTime() > ms;

/** What the record becomes after a termination attempt (`outcome` null: no instance known yet). */
export function terminationChange(row: Instance, outcome: TerminateOutcome | null, ids: Ids): InstanceChange {
  const requested = { terminationRequestedAt: row.terminationRequestedAt ?? new Date() };
  const known = { awsInstanceId: outcome?.instanceId ?? ids.awsInstanceId, spotRequestId: outcome?.spotRequestId ?? ids.spotRequestId };
  const ended = (statusReason: string | null): InstanceChange => ({ ...requested, ...known, status: "TERMINATED", terminatedAt: new Date(), statusReason });
  if (!outcome) {
    if (olderThan(row, UNFINISHED_LAUNCH_MS)) return ended("EC2 never listed an instance for this launch: nothing was started.");
    return {
      ...requested,
      status: "TERMINATING",
      statusReason: "Terminating: EC2 does not list an instance for this launch yet; it is terminated as soon as EC2 lists one.",
    };
  }
  if (outcome.instanceState === "terminated") return ended(row.statusReason);
  if (outcome.instance === "none" && outcome.spotRequest === "already-closed") return ended("The spot request was closed without an instance.");
  if (outcome.instance === "none" && outcome.spotRequest === "not-found" && olderThan(row, LISTING_DELAY_MS)) return ended("EC2 no longer lists the spot request.");
  if (outcome.instance === "not-found" && olderThan(row, LISTING_DELAY_MS)) return ended("EC2 no longer lists the instance.");
  return {
    ...requested,
    ...known,
    status: "TERMINATING",
    ...(outcome.instance === "not-found" ? { statusReason: `Terminating: EC2 does not list ${known.awsInstanceId ?? "the instance"} yet; retried until EC2 reports it terminated.` } : {}),
  };
}

export class InstanceTermination {
  constructor(private readonly records: InstanceRecords) {}

  /**
   * One attempt at ending the record's instance, and the record written accordingly (the caller
   * may terminate it). Safe to repeat; the sync repeats it for every record it is asked for.
   */
  async pursue(row: Instance, { backend, session }: ScopedBackend): Promise<TerminationResult> {
    let current = row;
    // Twice at most: a launch may record its instance id while the first attempt looks for it.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (isEnded(current)) return { instance: toInstanceView(current), userErrors: [] };
      let ids: Ids = { awsInstanceId: current.awsInstanceId, spotRequestId: current.spotRequestId };
      if (!hasIds(ids)) {
        // A launch whose answer was lost (timeout) or is still on its way may have started one.
        const found = await lookupByToken(session, current.region, normalizeClientToken(current.clientToken));
        if (!found.ok) return { instance: toInstanceView(current), userErrors: [awsUserError(found.error, ["id"])] };
        if (found.value) ids = { awsInstanceId: found.value.instanceId, spotRequestId: found.value.spotRequestId };
      }
      let outcome: TerminateOutcome | null = null;
      if (hasIds(ids)) {
        const result = await terminateInstance(session, current.region, { instanceId: ids.awsInstanceId, spotRequestId: ids.spotRequestId, bucket: backend.awsBucket, launchedByUs: true });
        if (!result.ok) return { instance: toInstanceView(current), userErrors: [awsUserError(result.error, ["id"])] };
        outcome = result.value;
      }
      const written = await this.records.change(backend.id, current.id, (now) => {
        if (isEnded(now)) return null;
        // The launch recorded its instance meanwhile: that one is terminated in the next attempt.
        if (!outcome && hasIds(now)) return null;
        return terminationChange(now, outcome, ids);
      });
      if (!written) return { userErrors: [notFound(["id"], "Instance")] };
      if (written.changed || isEnded(written.row)) return { instance: toInstanceView(written.row), userErrors: [] };
      current = written.row;
    }
    return { instance: toInstanceView(current), userErrors: [] };
  }
}

// Time limits and current prices of live instances.
// - A record past its maxDurationMinutes (counted from its creation) is terminated in EC2 (its spot
//   request cancelled), with statusReason saying so: MAX_DURATION_REACHED, TERMINATED.
// - Live spot instances get the current spot price of their type in the region.
import { lookupByToken, normalizeClientToken } from "../aws/compute/launch.js";
import { terminateInstance } from "../aws/compute/terminate.js";
import type { Instance } from "../generated/prisma/client.js";
import { currentSpotPrices } from "../spend/launch-price.js";
import { toInstanceView } from "../compute/instance-view.js";
import type { Observation } from "./findings.js";
import { changeRecord, recordPassAction } from "./instance-records.js";
import type { PartResult, PassContext } from "./pass-context.js";

const MINUTE_MS = 60_000;

export const expiresAt = (row: Pick<Instance, "createdAt" | "maxDurationMinutes">): Date | null =>
  row.maxDurationMinutes == null ? null : new Date(row.createdAt.getTime() + row.maxDurationMinutes * MINUTE_MS);

export async function enforceTimeLimits(context: PassContext): Promise<PartResult> {
  const rows = await context.prisma.instance.findMany({
    where: { backendId: context.backend.id, status: { in: ["PENDING", "RUNNING"] }, maxDurationMinutes: { not: null } },
  });
  const observed: Observation[] = [];
  let changed = false;
  for (const row of rows) {
    const limit = expiresAt(row);
    if (!limit || limit > context.now) continue;
    const outcome = await terminateExpired(context, row);
    if (outcome.observation) observed.push(outcome.observation);
    changed ||= outcome.changed;
  }
  return { observed, looked: true, changed };
}

async function terminateExpired(context: PassContext, row: Instance): Promise<{ observation?: Observation; changed: boolean }> {
  const { session, backend } = context;
  const reason = `Reached its time limit of ${row.maxDurationMinutes} minute(s) (maxDurationMinutes): terminated by the reconciler.`;
  let { awsInstanceId, spotRequestId } = row;
  if (!awsInstanceId && !spotRequestId) {
    const found = await lookupByToken(session, row.region, normalizeClientToken(row.clientToken));
    if (!found.ok) return { changed: false }; // could not look; the next pass tries again
    if (found.value) ({ instanceId: awsInstanceId, spotRequestId } = found.value);
  }
  const resourceId = awsInstanceId ?? spotRequestId ?? row.id;
  let gone = true;
  if (awsInstanceId || spotRequestId) {
    const ended = await terminateInstance(session, row.region, { instanceId: awsInstanceId, spotRequestId, bucket: backend.awsBucket });
    if (!ended.ok) {
      const message = `Instance ${row.name} (${resourceId}) passed its time limit of ${row.maxDurationMinutes} minute(s) but could not be terminated: ${ended.error.message}`;
      return { observation: { kind: "MAX_DURATION_REACHED", action: "REPORTED", resourceType: "ec2:instance", resourceId, message }, changed: false };
    }
    gone = ["already-terminated", "not-found", "none"].includes(ended.value.instance);
    awsInstanceId = ended.value.instanceId ?? awsInstanceId;
    spotRequestId = ended.value.spotRequestId ?? spotRequestId;
  }
  await changeRecord(context, row.id, ["PENDING", "RUNNING"], {
    status: gone ? "TERMINATED" : "TERMINATING",
    statusReason: reason,
    awsInstanceId,
    spotRequestId,
    ...(gone ? { terminatedAt: context.now } : {}),
  });
  const message = `Instance ${row.name} (${resourceId}) ran past its time limit of ${row.maxDurationMinutes} minute(s) (since ${row.createdAt.toISOString()}); terminated.`;
  await recordPassAction(context, "reconciler.terminate", { kind: "MAX_DURATION_REACHED", action: "TERMINATED", resourceType: "ec2:instance", resourceId, message });
  return { changed: true };
}

/** Keeps the price of live spot instances at the current spot price of their type in the region. */
export async function refreshSpotPrices(context: PassContext): Promise<boolean> {
  const rows = await context.prisma.instance.findMany({
    where: { backendId: context.backend.id, market: "SPOT", status: { in: ["PENDING", "RUNNING"] } },
  });
  if (rows.length === 0) return false;
  const prices = await currentSpotPrices(context.session, context.backend.awsRegion, [...new Set(rows.map((row) => row.instanceType))]);
  if (!prices) return false;
  let changed = false;
  for (const row of rows) {
    const price = prices.get(row.instanceType);
    if (price === undefined || price === row.pricePerHour) continue;
    const updated = await context.prisma.instance.update({ where: { id: row.id }, data: { pricePerHour: price } });
    context.publishInstance(toInstanceView(updated));
    changed = true;
  }
  return changed;
}

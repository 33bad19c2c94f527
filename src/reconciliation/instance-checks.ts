// The instance part of a pass: EC2 is listed by the backend's tags and compared with the records.
// - An instance whose ClientToken belongs to a live record that has no instance yet is adopted.
// - An instance (or open spot request) with no live record, older than ORPHAN_GRACE_SECONDS, is
//   terminated (its spot request cancelled): ORPHAN_INSTANCE, TERMINATED. Younger ones may be
//   launches in flight and are left for a later pass.
// - A live record whose instance EC2 reports terminated, or no longer lists, becomes TERMINATED:
//   INSTANCE_GONE, MARKED_TERMINATED.
import { describeInstances, type InstanceInfo, type SpotRequestInfo } from "../aws/compute/describe.js";
import { normalizeClientToken } from "../aws/compute/launch.js";
import { statusOfInstanceState } from "../aws/compute/status.js";
import { terminateInstance } from "../aws/compute/terminate.js";
import { CLIENT_TOKEN_TAG } from "../aws/names.js";
import { listOwnedInstances, listOwnedSpotRequests } from "../aws/reconciliation/inventory.js";
import type { AwsFailure } from "../aws/errors.js";
import type { Instance } from "../generated/prisma/client.js";
import type { Observation } from "./findings.js";
import { changeRecord, LIVE_STATUSES, markGone, RECONCILED_STATUSES, recordPassAction } from "./instance-records.js";
import { eventOf, type PartResult, type PassContext } from "./pass-context.js";

/** EC2 lists new instances with a delay: a record younger than this whose instance is not listed is not gone. */
const LISTING_DELAY_MS = 5 * 60_000;

const denied = (failure: AwsFailure, resourceType: string, region: string): Observation => ({
  kind: "CHECK_DENIED",
  action: "REPORTED",
  resourceType,
  resourceId: region,
  message: `Could not list the backend's ${resourceType === "ec2:instance" ? "instances" : "spot requests"}: ${failure.message} Orphans cannot be found until ${failure.action} is allowed.`,
});

export async function checkInstances(context: PassContext): Promise<PartResult> {
  const { backend, session } = context;
  const region = backend.awsRegion;
  const owner = { backendId: backend.id, bucket: backend.awsBucket };
  const [instances, requests] = await Promise.all([listOwnedInstances(session, region, owner), listOwnedSpotRequests(session, region, owner)]);
  const observed: Observation[] = [];
  for (const [listing, type] of [[instances, "ec2:instance"], [requests, "ec2:spot-instances-request"]] as const) {
    if (!listing.ok && listing.error.kind !== "ACCESS_DENIED") return { observed: [], looked: false, changed: false };
    if (!listing.ok) observed.push(denied(listing.error, type, region));
  }
  const listed = instances.ok ? instances.value : [];
  const records = await recordsFor(context, listed);
  let changed = false;
  for (const instance of listed) {
    const outcome = await reconcileListed(context, instance, records);
    if (outcome.observation) observed.push(outcome.observation);
    changed ||= outcome.changed;
  }
  for (const request of requests.ok ? requests.value : []) {
    const outcome = await reconcileSpotRequest(context, request, records);
    if (outcome.observation) observed.push(outcome.observation);
    changed ||= outcome.changed;
  }
  if (instances.ok) changed = (await markGoneRecords(context, records, listed)) || changed;
  return { observed, looked: true, changed };
}

/** The backend's live records, and any record the listed instances point at by id or ClientToken. */
async function recordsFor(context: PassContext, listed: readonly InstanceInfo[]): Promise<Instance[]> {
  const ids = listed.map((instance) => instance.instanceId);
  const tokens = listed.flatMap((instance) => (instance.tags[CLIENT_TOKEN_TAG] ? [instance.tags[CLIENT_TOKEN_TAG]] : []));
  return context.prisma.instance.findMany({
    where: {
      backendId: context.backend.id,
      OR: [{ status: { in: [...LIVE_STATUSES] } }, { awsInstanceId: { in: ids } }, { clientToken: { in: tokens } }],
    },
  });
}

const isLive = (row: Instance) => LIVE_STATUSES.includes(row.status);

type Outcome = { observation?: Observation; changed: boolean };

async function reconcileListed(context: PassContext, instance: InstanceInfo, records: Instance[]): Promise<Outcome> {
  const byId = records.find((row) => row.awsInstanceId === instance.instanceId);
  if (byId && isLive(byId)) return { changed: false };
  const token = instance.tags[CLIENT_TOKEN_TAG];
  const byToken = token ? records.find((row) => normalizeClientToken(row.clientToken) === token) : undefined;
  if (byToken && isLive(byToken) && !byToken.awsInstanceId) {
    // A record being terminated keeps its state; terminate() looks the instance up by its token itself.
    return { changed: byToken.status !== "TERMINATING" && (await adopt(context, byToken, instance)) };
  }
  const bySpotRequest = instance.spotRequestId ? records.find((row) => row.spotRequestId === instance.spotRequestId && isLive(row) && !row.awsInstanceId) : undefined;
  if (bySpotRequest) return { changed: false }; // the sync fills in the instance of a fulfilled request
  const known = byId ?? byToken;
  const why = !known
    ? "no record of this service launched it"
    : isLive(known)
      ? `its record ${known.name} tracks another instance (${known.awsInstanceId})`
      : `its record ${known.name} is ${known.status}`;
  return terminateOrphan(context, { instanceId: instance.instanceId, spotRequestId: instance.spotRequestId, since: instance.launchTime, what: `${instance.instanceType} ${instance.state}`, why });
}

/** The launch's answer was lost (a crash between RunInstances and the record update): the record takes the instance. */
async function adopt(context: PassContext, row: Instance, instance: InstanceInfo): Promise<boolean> {
  const status = statusOfInstanceState(instance.state) ?? "PENDING";
  const adopted = await changeRecord(context, row.id, RECONCILED_STATUSES, {
    awsInstanceId: instance.instanceId,
    spotRequestId: instance.spotRequestId ?? row.spotRequestId,
    status: status === "TERMINATED" ? "TERMINATING" : status,
    statusReason: null,
  });
  if (adopted) {
    const message = `Instance ${instance.instanceId} carries the ClientToken of record ${row.name}, whose launch never recorded it: adopted.`;
    context.report(eventOf(context, "reconciler.adopt", { resourceType: "ec2:instance", resourceId: instance.instanceId, message }));
  }
  return adopted;
}

async function reconcileSpotRequest(context: PassContext, request: SpotRequestInfo, records: Instance[]): Promise<Outcome> {
  if (request.instanceId) return { changed: false }; // handled with its instance
  const token = request.tags[CLIENT_TOKEN_TAG];
  const tracked = records.some((row) => isLive(row) && (row.spotRequestId === request.requestId || (token !== undefined && normalizeClientToken(row.clientToken) === token)));
  if (tracked) return { changed: false };
  return terminateOrphan(context, { spotRequestId: request.requestId, since: request.createTime, what: `spot request ${request.state}`, why: "no live record holds it" });
}

async function terminateOrphan(
  context: PassContext,
  orphan: { instanceId?: string; spotRequestId: string | null; since: Date | null; what: string; why: string },
): Promise<Outcome> {
  const resourceType = orphan.instanceId ? "ec2:instance" : "ec2:spot-instances-request";
  const resourceId = orphan.instanceId ?? orphan.spotRequestId!;
  // Without a launch time the age is unknown: treat it as new, a later pass sees it again.
  const age = orphan.since ? context.now.getTime() - orphan.since.getTime() : 0;
  if (age < context.orphanGraceMs) return { changed: false };
  const minutes = Math.round(age / 60_000);
  const ended = await terminateInstance(context.session, context.backend.awsRegion, { instanceId: orphan.instanceId, spotRequestId: orphan.spotRequestId, bucket: context.backend.awsBucket });
  if (!ended.ok) {
    const message = `${resourceId} (${orphan.what}, ${minutes} min old) runs in EC2 but ${orphan.why}; it could not be terminated: ${ended.error.message}`;
    return { observation: { kind: "ORPHAN_INSTANCE", action: "REPORTED", resourceType, resourceId, message }, changed: false };
  }
  const message = `${resourceId} (${orphan.what}, ${minutes} min old) ran in EC2 but ${orphan.why}; terminated after the grace period of ${Math.round(context.orphanGraceMs / 1000)} s.`;
  await recordPassAction(context, "reconciler.terminate", { kind: "ORPHAN_INSTANCE", action: "TERMINATED", resourceType, resourceId, message });
  return { changed: true };
}

/** Live records whose instance is not among the listed ones: asked for by id, and marked gone when EC2 says so. */
async function markGoneRecords(context: PassContext, records: Instance[], listed: readonly InstanceInfo[]): Promise<boolean> {
  const listedIds = new Set(listed.map((instance) => instance.instanceId));
  const candidates = records.filter((row) => RECONCILED_STATUSES.includes(row.status) && row.awsInstanceId && !listedIds.has(row.awsInstanceId));
  if (candidates.length === 0) return false;
  const described = await describeInstances(context.session, context.backend.awsRegion, candidates.map((row) => row.awsInstanceId!));
  if (!described.ok) return false; // could not look: never conclude "gone" from that
  let changed = false;
  for (const row of candidates) {
    const info = described.value.found.find((instance) => instance.instanceId === row.awsInstanceId);
    let reason: string | null = null;
    if (info?.state === "terminated") reason = info.stateReason ? `${info.stateReason.code}: ${info.stateReason.message}` : "EC2 reports it terminated.";
    else if (!info && context.now.getTime() - row.createdAt.getTime() > LISTING_DELAY_MS) reason = "EC2 no longer lists the instance.";
    if (reason) changed = (await markGone(context, row, reason)) || changed;
  }
  return changed;
}

// Terminating an instance of this backend: only what carries the backend's dstack_bucket tag, the
// spot request cancelled before the instance is terminated (so nothing can relaunch it), and
// idempotent: what is already gone or terminated counts as done.
import type { AwsSession } from "../discovery.js";
import { attempt, localFailure, type AwsResult } from "../errors.js";
import { describeInstances, describeSpotRequests, type InstanceInfo, type SpotRequestInfo } from "./describe.js";
import { BUCKET_TAG } from "../names.js";
import { sdk } from "../sdk.js";

export interface TerminateInput {
  instanceId?: string | null;
  spotRequestId?: string | null;
  /** The backend's bucket: the instance and the spot request must carry dstack_bucket=<bucket>. */
  bucket: string;
  /**
   * The instance id came from this service's own launch (RunInstances' answer, or the instance its
   * ClientToken tag names): when DescribeInstances does not list it yet (EC2 lists a new instance
   * with a delay), TerminateInstances is sent by id anyway instead of waiting to see its tag.
   */
  launchedByUs?: boolean;
}

export interface TerminateOutcome {
  /**
   * cancelled: CancelSpotInstanceRequests was sent; already-closed: it was cancelled/closed/failed;
   * not-found: EC2 does not list it; none: no spot request involved.
   */
  spotRequest: "cancelled" | "already-closed" | "not-found" | "none";
  /**
   * terminating: TerminateInstances was sent; already-terminated: terminated or shutting down;
   * not-found: EC2 does not list it (long gone, or launched moments ago and not visible yet: a caller
   * that launched it within the last few minutes should try again later); none: no instance yet.
   */
  instance: "terminating" | "already-terminated" | "not-found" | "none";
  /**
   * The instance's state as EC2 last reported it (DescribeInstances before, or TerminateInstances'
   * answer after): only "terminated" means EC2 confirms that it is gone. Null when EC2 reported none.
   */
  instanceState: string | null;
  instanceId: string | null;
  spotRequestId: string | null;
}

const CLOSED_REQUEST_STATES = new Set(["cancelled", "closed", "failed"]);
const ENDING_INSTANCE_STATES = new Set(["terminated", "shutting-down"]);

function notOurs(what: string, id: string, bucket: string, tags: Record<string, string>): AwsResult<never> {
  const found = tags[BUCKET_TAG];
  return {
    ok: false,
    error: localFailure(
      "NOT_OURS",
      "ec2",
      what === "instance" ? "TerminateInstances" : "CancelSpotInstanceRequests",
      "NotOurs",
      `Refusing to terminate: ${what} ${id} is not tagged ${BUCKET_TAG}=${bucket}${found ? ` (it belongs to ${found})` : " (it has no such tag)"}.`,
    ),
  };
}

/**
 * Cancels the spot request (if any) and terminates the instance (if any). Both are described first,
 * and nothing is changed unless every one of them carries dstack_bucket=<bucket> (NOT_OURS
 * otherwise). Given only a spot request id, its instance (if fulfilled) is terminated too; given only
 * an instance id, its spot request (if AWS reports one) is cancelled first.
 */
export async function terminateInstance(session: AwsSession, region: string, input: TerminateInput): Promise<AwsResult<TerminateOutcome>> {
  if (!input.instanceId && !input.spotRequestId) {
    return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "TerminateInstances", "InvalidTerminateInput", "An instance id or a spot request id is required.") };
  }
  if (!input.bucket) {
    return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "TerminateInstances", "InvalidTerminateInput", "The backend's bucket is required.") };
  }

  let instanceId = input.instanceId ?? null;
  let spotRequestId = input.spotRequestId ?? null;
  let request: SpotRequestInfo | null = null;
  let instance: InstanceInfo | null = null;

  if (spotRequestId) {
    const listed = await describeSpotRequests(session, region, [spotRequestId]);
    if (!listed.ok) return listed;
    request = listed.value.found[0] ?? null;
    if (request && request.tags[BUCKET_TAG] !== input.bucket) return notOurs("spot request", request.requestId, input.bucket, request.tags);
    instanceId ??= request?.instanceId ?? null;
  }
  if (instanceId) {
    const listed = await describeInstances(session, region, [instanceId]);
    if (!listed.ok) return listed;
    instance = listed.value.found[0] ?? null;
    if (instance && instance.tags[BUCKET_TAG] !== input.bucket) return notOurs("instance", instance.instanceId, input.bucket, instance.tags);
    if (!spotRequestId && instance?.spotRequestId) {
      spotRequestId = instance.spotRequestId;
      const requests = await describeSpotRequests(session, region, [spotRequestId]);
      if (!requests.ok) return requests;
      request = requests.value.found[0] ?? null;
      if (request && request.tags[BUCKET_TAG] !== input.bucket) return notOurs("spot request", request.requestId, input.bucket, request.tags);
    }
  }

  // Everything checked: now change things, spot request first.
  const { CancelSpotInstanceRequestsCommand, TerminateInstancesCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  let spotOutcome: TerminateOutcome["spotRequest"] = spotRequestId ? "not-found" : "none";
  if (request) {
    if (CLOSED_REQUEST_STATES.has(request.state)) {
      spotOutcome = "already-closed";
    } else {
      const cancelled = await attempt("ec2", "CancelSpotInstanceRequests", () =>
        ec2.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [request.requestId] })),
      );
      if (!cancelled.ok && cancelled.error.kind !== "NOT_FOUND") return cancelled;
      spotOutcome = cancelled.ok ? "cancelled" : "not-found";
    }
  }

  let instanceOutcome: TerminateOutcome["instance"] = instanceId ? "not-found" : "none";
  let instanceState = instance?.state ?? null;
  if (instance && ENDING_INSTANCE_STATES.has(instance.state)) {
    instanceOutcome = "already-terminated";
  } else if (instance || (instanceId && input.launchedByUs)) {
    const id = instance?.instanceId ?? instanceId!;
    const terminated = await attempt("ec2", "TerminateInstances", () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
    if (!terminated.ok && terminated.error.kind !== "NOT_FOUND") return terminated;
    instanceOutcome = terminated.ok ? "terminating" : "not-found";
    if (terminated.ok) instanceState = terminated.value.TerminatingInstances?.find((i) => i.InstanceId === id)?.CurrentState?.Name ?? instanceState;
  }
  return { ok: true, value: { spotRequest: spotOutcome, instance: instanceOutcome, instanceState, instanceId, spotRequestId } };
}

// EC2's instance and spot request states mapped to InstanceStatus
// (PENDING RUNNING TERMINATING TERMINATED NO_CAPACITY FAILED). Once an instance exists it decides;
// before that the spot request does. Spot status codes:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-request-status.html
import type { InstanceInfo, SpotRequestInfo } from "./describe.js";

export type InstanceStatus = "PENDING" | "RUNNING" | "TERMINATING" | "TERMINATED" | "NO_CAPACITY" | "FAILED";

export interface MappedStatus {
  status: InstanceStatus;
  /** Why, when it is not plain: AWS's status code and message, an interruption, a vanished request. */
  reason: string | null;
}

/**
 * No instance for lack of capacity or price. An *open* request in this state is still alive and may
 * be fulfilled later: cancel it (terminateInstance with the spot request id) when giving up.
 */
const NO_CAPACITY_CODES = new Set(["capacity-not-available", "capacity-oversubscribed", "price-too-low", "limit-exceeded"]);

/** The instance ran and EC2 took it back (capacity or price): TERMINATED, with this as the reason. */
const INTERRUPTION_CODES = new Set([
  "instance-terminated-no-capacity",
  "instance-terminated-capacity-oversubscribed",
  "instance-terminated-by-price",
  "instance-stopped-no-capacity",
  "instance-stopped-by-price",
]);

/** Still being evaluated: PENDING. */
const PENDING_CODES = new Set([
  "pending-evaluation",
  "pending-fulfillment",
  "not-scheduled-yet",
  "launch-group-constraint",
  "az-group-constraint",
  "placement-group-constraint",
]);

/** Ended by someone's decision, not by a fault: TERMINATED. */
const ENDED_CODES = new Set([
  "canceled-before-fulfillment",
  "request-canceled-and-instance-running",
  "instance-terminated-by-user",
  "spot-instance-terminated-by-user",
  "instance-terminated-by-service",
  "instance-terminated-by-experiment",
  "instance-terminated-by-schedule",
  "instance-stopped-by-user",
]);

/** Codes that, with a live instance, announce its end within two minutes. */
const MARKED_CODES = new Set(["marked-for-termination", "marked-for-stop"]);

/** Instance state alone. */
export function statusOfInstanceState(state: string): InstanceStatus | null {
  switch (state) {
    case "pending":
      return "PENDING";
    case "running":
      return "RUNNING";
    case "shutting-down":
    case "stopping":
      return "TERMINATING";
    case "terminated":
    case "stopped":
      return "TERMINATED";
    default:
      return null;
  }
}

function spotReason(request: SpotRequestInfo): string {
  const code = request.statusCode ?? request.state;
  return request.statusMessage ? `${code}: ${request.statusMessage}` : code;
}

export interface StatusInput {
  /** undefined: not asked (on-demand); null: asked and EC2 did not list it. */
  spotRequest?: SpotRequestInfo | null;
  /** undefined: no instance id known yet; null: asked and EC2 did not list it. */
  instance?: InstanceInfo | null;
  /**
   * When the launch was requested. EC2 lists new instances and requests with a delay (eventual
   * consistency), so within `graceMs` of this, "not listed" means PENDING rather than gone.
   */
  launchedAt?: Date | null;
  now?: Date;
  /** Default 5 minutes. */
  graceMs?: number;
}

/**
 * The status of one launch:
 * - an instance that EC2 lists decides: pending → PENDING, running → RUNNING (TERMINATING when its
 *   spot request is marked for termination), shutting-down/stopping → TERMINATING,
 *   terminated/stopped → TERMINATED (with the interruption reason when the spot request has one);
 * - otherwise the spot request: open + pending-* → PENDING; capacity-not-available,
 *   capacity-oversubscribed, price-too-low (open or closed) → NO_CAPACITY; active/fulfilled →
 *   PENDING until the instance is listed; instance-terminated-no-capacity/-by-price → TERMINATED
 *   (an interruption); cancelled/closed without instance → TERMINATED when ended by a user or the
 *   service, FAILED with the reason otherwise; failed → FAILED;
 * - nothing listed: PENDING within the grace period after launch, TERMINATED after it.
 */
export function mapInstanceStatus(input: StatusInput): MappedStatus {
  const { instance, spotRequest } = input;
  if (instance) {
    const status = statusOfInstanceState(instance.state) ?? "PENDING";
    if (status === "RUNNING" && spotRequest?.statusCode && MARKED_CODES.has(spotRequest.statusCode)) {
      return { status: "TERMINATING", reason: `Spot interruption: ${spotReason(spotRequest)}` };
    }
    if (status === "TERMINATED") {
      if (spotRequest?.statusCode && INTERRUPTION_CODES.has(spotRequest.statusCode)) {
        return { status, reason: `Spot interruption: ${spotReason(spotRequest)}` };
      }
      if (instance.stateReason) return { status, reason: `${instance.stateReason.code}: ${instance.stateReason.message}` };
    }
    return { status, reason: null };
  }

  if (spotRequest) {
    const code = spotRequest.statusCode ?? "";
    if (NO_CAPACITY_CODES.has(code)) return { status: "NO_CAPACITY", reason: spotReason(spotRequest) };
    if (INTERRUPTION_CODES.has(code)) return { status: "TERMINATED", reason: `Spot interruption: ${spotReason(spotRequest)}` };
    switch (spotRequest.state) {
      case "open":
        return { status: "PENDING", reason: PENDING_CODES.has(code) ? null : spotReason(spotRequest) };
      case "active":
        // Fulfilled: the instance exists but is not listed yet (or not asked for).
        return { status: "PENDING", reason: null };
      case "failed":
        return { status: "FAILED", reason: spotReason(spotRequest) };
      case "cancelled":
      case "closed":
      case "disabled":
        if (ENDED_CODES.has(code)) return { status: "TERMINATED", reason: spotReason(spotRequest) };
        return { status: "FAILED", reason: spotReason(spotRequest) };
      default:
        return { status: "PENDING", reason: spotReason(spotRequest) };
    }
  }

  // Nothing listed. Right after a launch that is EC2's eventual consistency; later it means the
  // instance (or request) is gone: EC2 forgets terminated instances after about an hour, and
  // cancelled requests after a few hours (moto forgets a cancelled request at once).
  const askedAndMissing = instance === null || spotRequest === null;
  if (!askedAndMissing) return { status: "PENDING", reason: null };
  const now = input.now ?? new Date();
  const grace = input.graceMs ?? 5 * 60_000;
  if (input.launchedAt && now.getTime() - input.launchedAt.getTime() < grace) return { status: "PENDING", reason: null };
  return { status: "TERMINATED", reason: "EC2 no longer lists the instance or its spot request." };
}

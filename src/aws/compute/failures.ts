// Failures of compute calls: the classified AwsFailure of errors.ts, plus the kinds that only make
// sense for instances (no capacity, unknown type, IAM still propagating, not our instance, bad
// input). Nothing here throws; every SDK error becomes a ComputeFailure.
import type { AwsServiceName } from "../clients.js";
import { classifyAwsError, type AwsErrorKind, type AwsFailure } from "../errors.js";
import { iamActionFor } from "../iam-actions.js";

export type ComputeFailureKind =
  | AwsErrorKind
  /** "Invalid IAM Instance Profile": the profile was created moments ago and has not propagated. Retry with the same token. */
  | "INSTANCE_PROFILE_NOT_READY"
  /** EC2 has no capacity (or the quota / spot price forbids it) right now; `message` carries AWS's reason. */
  | "NO_CAPACITY"
  /** The instance type does not exist, is not offered here, or does not fit the image. */
  | "INSTANCE_TYPE_UNAVAILABLE"
  /** The instance or spot request does not carry this backend's dstack_bucket tag. */
  | "NOT_OURS"
  /** Our own input check failed before any AWS call (e.g. no dstack_bucket tag, key outside the prefix). */
  | "INVALID_INPUT";

export interface ComputeFailure extends Omit<AwsFailure, "kind"> {
  kind: ComputeFailureKind;
}

export type ComputeResult<T> = { ok: true; value: T } | { ok: false; error: ComputeFailure };

/** Worth retrying later with the same input (and, for launches, the same client token). */
export function isRetryable(failure: ComputeFailure): boolean {
  return failure.kind === "TRANSIENT" || failure.kind === "INSTANCE_PROFILE_NOT_READY";
}

/** A failure found by our own checks, before or instead of an AWS call. */
export function localFailure(
  kind: ComputeFailureKind,
  service: AwsServiceName,
  operation: string,
  code: string,
  message: string,
): ComputeFailure {
  return { kind, service, operation, action: iamActionFor(service, operation), code, message };
}

/** Codes whose AWS message is informative and harmless (capacity, quota, type), so it is shown as is. */
const NO_CAPACITY_CODES = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientCapacity",
  "InsufficientHostCapacity",
  "InsufficientCapacityOnHost",
  "InsufficientReservedInstanceCapacity",
  "SpotMaxPriceTooLow",
  "MaxSpotInstanceCountExceeded",
  "InstanceLimitExceeded",
  "VcpuLimitExceeded",
  "InsufficientFreeAddressesInSubnet",
]);

const INSTANCE_TYPE_CODES = new Set(["Unsupported", "InvalidInstanceType", "UnsupportedOperation"]);

const IAM_PROPAGATION = /Invalid IAM Instance Profile|has no associated IAM Roles|Instance Profile .* does not exist|cannot be assumed/i;
const INSTANCE_TYPE_MESSAGE = /instance ?type|InstanceType|architecture/i;

/** AWS's own message, trimmed to one line of bounded length. Only used for the codes above. */
export function awsMessage(error: unknown): string {
  const raw = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
  if (typeof raw !== "string") return "";
  return raw.replace(/[\p{Cc}]+/gu, " ").trim().slice(0, 500);
}

/**
 * Classifies an SDK error of an EC2 launch-like call. Capacity codes win over the generic kinds:
 * EC2 sends InsufficientInstanceCapacity as HTTP 500, which errors.ts would call TRANSIENT.
 */
export function classifyComputeError(error: unknown, service: AwsServiceName, operation: string): ComputeFailure {
  const base = classifyAwsError(error, service, operation);
  const code = base.code;
  const message = awsMessage(error);
  if (NO_CAPACITY_CODES.has(code)) {
    return { ...base, kind: "NO_CAPACITY", message: message ? `${code}: ${message}` : `AWS has no capacity for this request (${code}).` };
  }
  if ((code === "InvalidParameterValue" || code === "ValidationError") && IAM_PROPAGATION.test(message)) {
    return {
      ...base,
      kind: "INSTANCE_PROFILE_NOT_READY",
      message: "EC2 does not see the backend's IAM instance profile yet (IAM propagation takes up to a few minutes); retry with the same client token.",
    };
  }
  if (INSTANCE_TYPE_CODES.has(code) || code.startsWith("InvalidInstanceType") || (code === "InvalidParameterValue" && INSTANCE_TYPE_MESSAGE.test(message))) {
    return { ...base, kind: "INSTANCE_TYPE_UNAVAILABLE", message: message ? `${code}: ${message}` : `The instance type is not available (${code}).` };
  }
  return base;
}

/** Like errors.ts `attempt`, with compute classification. */
export async function attemptCompute<T>(service: AwsServiceName, operation: string, call: () => Promise<T>): Promise<ComputeResult<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: classifyComputeError(error, service, operation) };
  }
}

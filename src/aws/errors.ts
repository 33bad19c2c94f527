// The one classifier of AWS failures: whatever the SDK throws becomes a small, safe description
// of what kind of problem it is, which IAM action the call needed, and a message that can be shown
// to a user. Discovery and compute turn it into userErrors (user-errors.ts), provisioning into step
// errors (provisioning/failures.ts). Messages are written here, never copied from the SDK error,
// so no signature, key or secret can leak; the only exception is EC2's reason for a refused
// launch (capacity, quota, instance type), which is informative and harmless.
import {
  ACCESS_DENIED_CODES,
  IAM_PROPAGATION_MESSAGE,
  INSTANCE_TYPE_CODES,
  INSTANCE_TYPE_MESSAGE,
  INVALID_CREDENTIAL_CODES,
  INVALID_PARAMETER_CODES,
  NO_CAPACITY_CODES,
  NOT_FOUND_CODES,
  TRANSIENT_CODES,
} from "./error-codes.js";
import { iamActionFor, operationName, type AwsServiceName } from "./iam-actions.js";

export type AwsErrorKind =
  | "ACCESS_DENIED"
  | "INVALID_CREDENTIALS"
  /** The server's default credential chain found nothing (no env vars, profile or instance role). */
  | "NO_CREDENTIALS"
  | "NOT_FOUND"
  /** Throttling, 5xx, timeouts, connection failures: worth retrying later. */
  | "TRANSIENT"
  /** Launches: "Invalid IAM Instance Profile", the profile was created moments ago and has not propagated. Retry with the same token. */
  | "INSTANCE_PROFILE_NOT_READY"
  /** Launches: EC2 has no capacity (or the quota / spot price forbids it) right now; `message` carries AWS's reason. */
  | "NO_CAPACITY"
  /** Launches: the instance type does not exist, is not offered here, or does not fit the image. */
  | "INSTANCE_TYPE_UNAVAILABLE"
  /** Found by our own checks: the instance or spot request does not carry this backend's dstack_bucket tag. */
  | "NOT_OURS"
  /** Found by our own checks before any AWS call (e.g. no dstack_bucket tag, key outside the prefix). */
  | "INVALID_INPUT"
  | "OTHER";

export interface AwsFailure {
  kind: AwsErrorKind;
  service: AwsServiceName;
  /** e.g. "ListBuckets". */
  operation: string;
  /** The IAM action the call needed, e.g. "s3:ListAllMyBuckets". */
  action: string;
  /** AWS error code or SDK error name, e.g. "AccessDenied", "TimeoutError". */
  code: string;
  httpStatus?: number;
  /** Safe to show to users and to log. */
  message: string;
}

export type AwsResult<T> = { ok: true; value: T } | { ok: false; error: AwsFailure };

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

function errorCode(error: ErrorLike): string {
  // AWS service errors carry the code as `name` (and S3 also as `Code`); Node network errors
  // carry it as `code` (ECONNRESET) with name "Error"; the SDK's TimeoutError has both.
  for (const candidate of [error.Code, error.name, error.code]) {
    if (typeof candidate === "string" && candidate !== "" && candidate !== "Error") return candidate;
  }
  return "Unknown";
}

function httpStatusOf(error: ErrorLike): number | undefined {
  return error.$metadata?.httpStatusCode ?? error.$response?.statusCode;
}

/** Classifies an error thrown by an SDK call of `operation` (e.g. "ListBuckets" or "ListBucketsCommand"). */
export function classifyAwsError(error: unknown, service: AwsServiceName, operation: string): AwsFailure {
  const failure = classifyCall(error, service, operation);
  return LAUNCH_OPERATIONS.has(failure.operation) ? classifyLaunch(error, failure) : failure;
}

function classifyCall(error: unknown, service: AwsServiceName, operation: string): AwsFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  const code = errorCode(e);
  const httpStatus = httpStatusOf(e);
  const op = operationName(operation);
  const action = iamActionFor(service, op);
  const base = { service, operation: op, action, code, ...(httpStatus !== undefined ? { httpStatus } : {}) };

  if (code === "CredentialsProviderError") {
    return {
      ...base,
      kind: "NO_CREDENTIALS",
      message: "No AWS credentials were found in the server's default credential chain.",
    };
  }
  if (INVALID_CREDENTIAL_CODES[code]) {
    return { ...base, kind: "INVALID_CREDENTIALS", message: INVALID_CREDENTIAL_CODES[code] };
  }
  // Subcodes such as AuthFailure.ServiceLinkedRoleCreationNotPermitted are missing permissions,
  // not bad keys. A 403 without a readable code (S3 HEAD responses have no body; moto answers
  // denied JSON-protocol calls with XML the SDK cannot parse) is also a denial.
  if (ACCESS_DENIED_CODES.has(code) || code.startsWith("AuthFailure.") || (httpStatus === 403 && !isNamedCode(code))) {
    return {
      ...base,
      kind: "ACCESS_DENIED",
      message: `Access denied: these credentials are not allowed to perform ${action}.`,
    };
  }
  if (NOT_FOUND_CODES.has(code) || code.endsWith(".NotFound") || code.endsWith(".Malformed") || httpStatus === 404) {
    return { ...base, kind: "NOT_FOUND", message: `${op} found nothing (${code}).` };
  }
  if (TRANSIENT_CODES.has(code) || (httpStatus !== undefined && httpStatus >= 500) || isAbort(code)) {
    return {
      ...base,
      kind: "TRANSIENT",
      message: `AWS did not answer ${op} successfully (${code}${httpStatus ? `, HTTP ${httpStatus}` : ""}) after retries; try again.`,
    };
  }
  return {
    ...base,
    kind: "OTHER",
    message: `AWS rejected ${op} (${code}${httpStatus ? `, HTTP ${httpStatus}` : ""}).`,
  };
}

/** True for codes that came from an AWS error body rather than from a failed parse. */
function isNamedCode(code: string): boolean {
  return code !== "Unknown" && code !== "UnknownError" && code !== "SyntaxError";
}

function isAbort(code: string): boolean {
  return code === "AbortError" || code === "RequestAbortedError";
}

/** Operations that take an instance type and an instance profile, whose refusals say more than their code. */
const LAUNCH_OPERATIONS = new Set(["RunInstances"]);

/**
 * The launch kinds win over the generic ones: EC2 sends InsufficientInstanceCapacity as HTTP 500,
 * which is not worth retrying at once, and an unpropagated instance profile as InvalidParameterValue.
 */
function classifyLaunch(error: unknown, failure: AwsFailure): AwsFailure {
  const { code } = failure;
  const message = awsMessage(error);
  if (NO_CAPACITY_CODES.has(code)) {
    return { ...failure, kind: "NO_CAPACITY", message: message ? `${code}: ${message}` : `AWS has no capacity for this request (${code}).` };
  }
  if ((code === "InvalidParameterValue" || code === "ValidationError") && IAM_PROPAGATION_MESSAGE.test(message)) {
    return {
      ...failure,
      kind: "INSTANCE_PROFILE_NOT_READY",
      message: "EC2 does not see the backend's IAM instance profile yet (IAM propagation takes up to a few minutes); retry with the same client token.",
    };
  }
  if (INSTANCE_TYPE_CODES.has(code) || code.startsWith("InvalidInstanceType") || (code === "InvalidParameterValue" && INSTANCE_TYPE_MESSAGE.test(message))) {
    return { ...failure, kind: "INSTANCE_TYPE_UNAVAILABLE", message: message ? `${code}: ${message}` : `The instance type is not available (${code}).` };
  }
  return failure;
}

/** AWS's own message, trimmed to one line of bounded length. Only used for the launch codes above. */
function awsMessage(error: unknown): string {
  const raw = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
  if (typeof raw !== "string") return "";
  return raw.replace(/[\p{Cc}]+/gu, " ").trim().slice(0, 500);
}

/** A failure found by our own checks, before or instead of an AWS call. */
export function localFailure(kind: AwsErrorKind, service: AwsServiceName, operation: string, code: string, message: string): AwsFailure {
  return { kind, service, operation, action: iamActionFor(service, operation), code, message };
}

/** Worth retrying later with the same input (and, for launches, the same client token). */
export function isRetryable(failure: AwsFailure): boolean {
  return failure.kind === "TRANSIENT" || failure.kind === "INSTANCE_PROFILE_NOT_READY";
}

export function isCode(failure: AwsFailure, ...codes: string[]): boolean {
  // IAM answers "EntityAlreadyExists" on AWS and "EntityAlreadyExistsException" on some endpoints.
  return codes.some((code) => failure.code === code || failure.code === `${code}Exception`);
}

/** AWS refused a request parameter (the message should name the parameter, which only the caller knows). */
export function isInvalidParameter(failure: AwsFailure): boolean {
  return INVALID_PARAMETER_CODES.has(failure.code);
}

/** An account quota is reached (IAM's LimitExceeded, EC2's *LimitExceeded). */
export function isQuotaExceeded(failure: AwsFailure): boolean {
  return isCode(failure, "LimitExceeded") || failure.code.endsWith("LimitExceeded");
}

/** Runs an SDK call and turns any failure into a classified result instead of a throw. */
export async function attempt<T>(service: AwsServiceName, operation: string, call: () => Promise<T>): Promise<AwsResult<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: classifyAwsError(error, service, operation) };
  }
}

// Turns whatever the SDK throws into a small, safe description: what kind of problem it is,
// which IAM action the call needed, and a message that can be shown to a user. Messages are
// written here, never copied from the SDK error, so no signature, key or secret can leak.
import { iamActionFor, operationName, type AwsServiceName } from "./iam-actions.js";

export type AwsErrorKind =
  | "ACCESS_DENIED"
  | "INVALID_CREDENTIALS"
  /** The server's default credential chain found nothing (no env vars, profile or instance role). */
  | "NO_CREDENTIALS"
  | "NOT_FOUND"
  /** Throttling, 5xx, timeouts, connection failures: worth retrying later. */
  | "TRANSIENT"
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

const INVALID_CREDENTIAL_CODES: Record<string, string> = {
  InvalidClientTokenId: "AWS does not recognise the access key ID.",
  InvalidAccessKeyId: "AWS does not recognise the access key ID.",
  UnrecognizedClientException: "AWS does not recognise the access key ID.",
  SignatureDoesNotMatch: "The secret access key does not match the access key ID.",
  IncompleteSignature: "AWS could not verify the request signature made with these credentials.",
  ExpiredToken: "The credentials have expired.",
  ExpiredTokenException: "The credentials have expired.",
  InvalidToken: "The session token is invalid.",
  TokenRefreshRequired: "The credentials have expired.",
  // EC2's answer for both an unknown key and a wrong secret (HTTP 401).
  AuthFailure: "AWS could not validate the credentials.",
};

const ACCESS_DENIED_CODES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "Forbidden",
  "AllAccessDisabled",
]);

/** AWS asking us to slow down (a subset of the transient codes). */
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
]);

const TRANSIENT_CODES = new Set([
  ...THROTTLING_CODES,
  "InternalError",
  "InternalFailure",
  "InternalServiceError",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

const NOT_FOUND_CODES = new Set([
  "NotFound",
  "NoSuchBucket",
  "NoSuchKey",
  "NoSuchEntity",
  "NoSuchEntityException",
  "ResourceNotFoundException",
]);

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

/** How a call ended, for metrics: ok, throttled (AWS asked us to slow down), denied, or any other error. */
export type AwsCallOutcome = "ok" | "throttled" | "denied" | "error";

export function callOutcome(failure: AwsFailure): AwsCallOutcome {
  if (failure.kind === "ACCESS_DENIED" || failure.kind === "INVALID_CREDENTIALS") return "denied";
  if (THROTTLING_CODES.has(failure.code) || failure.httpStatus === 429) return "throttled";
  return "error";
}

/** True for codes that came from an AWS error body rather than from a failed parse. */
function isNamedCode(code: string): boolean {
  return code !== "Unknown" && code !== "UnknownError" && code !== "SyntaxError";
}

function isAbort(code: string): boolean {
  return code === "AbortError" || code === "RequestAbortedError";
}

/** Runs an SDK call and turns any failure into a classified result instead of a throw. */
export async function attempt<T>(service: AwsServiceName, operation: string, call: () => Promise<T>): Promise<AwsResult<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: classifyAwsError(error, service, operation) };
  }
}

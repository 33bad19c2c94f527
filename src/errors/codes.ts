// Every error code the API speaks, in one place.

/** Codes of `userErrors` entries: expected, user-fixable problems. */
export enum UserErrorCode {
  INVALID_INPUT = "INVALID_INPUT",
  NAME_TAKEN = "NAME_TAKEN",
  NOT_FOUND = "NOT_FOUND",
  LAST_ADMIN = "LAST_ADMIN",
  BACKEND_BUSY = "BACKEND_BUSY",
  AWS_CREDENTIALS_INVALID = "AWS_CREDENTIALS_INVALID",
  AWS_DEFAULT_CREDENTIALS_DISABLED = "AWS_DEFAULT_CREDENTIALS_DISABLED",
  AWS_ACCESS_DENIED = "AWS_ACCESS_DENIED",
  REGION_INVALID = "REGION_INVALID",
  BUCKET_NOT_FOUND = "BUCKET_NOT_FOUND",
  BUCKET_ACCESS_DENIED = "BUCKET_ACCESS_DENIED",
  BUCKET_IN_OTHER_REGION = "BUCKET_IN_OTHER_REGION",
  SUBNET_NOT_FOUND = "SUBNET_NOT_FOUND",
  SUBNET_NOT_IN_REGION = "SUBNET_NOT_IN_REGION",
  INSTANCE_TYPE_UNAVAILABLE = "INSTANCE_TYPE_UNAVAILABLE",
  NO_CAPACITY = "NO_CAPACITY",
  /** AWS could not be reached or kept failing (throttling, 5xx, timeouts) after retries. */
  AWS_UNAVAILABLE = "AWS_UNAVAILABLE",
  /** A launch would exceed one of the project's limits (setProjectLimits). */
  BUDGET_EXCEEDED = "BUDGET_EXCEEDED",
}

/** `extensions.code` of thrown GraphQL errors. */
export enum ErrorCode {
  UNAUTHENTICATED = "UNAUTHENTICATED",
  FORBIDDEN = "FORBIDDEN",
  BAD_USER_INPUT = "BAD_USER_INPUT",
  INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR",
  SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE",
  RATE_LIMITED = "RATE_LIMITED",
}

/** A user-fixable problem, as services return it; the GraphQL `UserError` type mirrors it. */
export interface UserErrorData {
  code: UserErrorCode;
  message: string;
  /** Path into the mutation's arguments, e.g. ["input", "credentials", "secretAccessKey"]. */
  field?: string[];
}

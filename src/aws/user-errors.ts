// Classified AWS failures (errors.ts) as userErrors, each on the field it concerns: the one place
// that decides which code a user sees for which kind of failure. Discovery, backends and compute
// use it; provisioning turns failures into step errors instead (provisioning/failures.ts).
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { AwsErrorKind, AwsFailure } from "./errors.js";

const CODE_BY_KIND: Partial<Record<AwsErrorKind, UserErrorCode>> = {
  ACCESS_DENIED: UserErrorCode.AWS_ACCESS_DENIED,
  INVALID_CREDENTIALS: UserErrorCode.AWS_CREDENTIALS_INVALID,
  NO_CREDENTIALS: UserErrorCode.AWS_CREDENTIALS_INVALID,
  NOT_FOUND: UserErrorCode.NOT_FOUND,
  TRANSIENT: UserErrorCode.AWS_UNAVAILABLE,
  INSTANCE_PROFILE_NOT_READY: UserErrorCode.AWS_UNAVAILABLE,
  NO_CAPACITY: UserErrorCode.NO_CAPACITY,
  INSTANCE_TYPE_UNAVAILABLE: UserErrorCode.INSTANCE_TYPE_UNAVAILABLE,
  NOT_OURS: UserErrorCode.INVALID_INPUT,
  INVALID_INPUT: UserErrorCode.INVALID_INPUT,
};

export interface AwsUserErrorOptions {
  /** What a denial keeps the user from doing, e.g. "Cannot list the account's buckets"; it leads the message. */
  blocked?: string;
  /** Where bad credentials are reported when not on `field` (discovery: on input.credentials). */
  credentialsField?: readonly string[];
}

/** The userError for a failed AWS call; the message names the IAM action when a permission is missing. */
export function awsUserError(failure: AwsFailure, field: readonly string[], options: AwsUserErrorOptions = {}): UserErrorData {
  const isCredentials = failure.kind === "INVALID_CREDENTIALS" || failure.kind === "NO_CREDENTIALS";
  const code = CODE_BY_KIND[failure.kind] ?? UserErrorCode.AWS_UNAVAILABLE;
  return { code, message: messageOf(failure, options.blocked), field: [...(isCredentials && options.credentialsField ? options.credentialsField : field)] };
}

function messageOf(failure: AwsFailure, blocked: string | undefined): string {
  if (failure.kind !== "ACCESS_DENIED") return failure.message;
  if (blocked) return `${blocked}: these credentials are not allowed to perform ${failure.action}.`;
  return `These credentials are not allowed to perform ${failure.action}.`;
}

// AWS compute failures as userErrors, each on the field it concerns.
import type { AwsFailure } from "../aws/errors.js";
import type { ComputeFailure } from "../aws/compute/failures.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";

const CODE_BY_KIND: Partial<Record<ComputeFailure["kind"], UserErrorCode>> = {
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

export function computeUserError(failure: ComputeFailure | AwsFailure, field: string[]): UserErrorData {
  const code = CODE_BY_KIND[failure.kind] ?? UserErrorCode.AWS_UNAVAILABLE;
  const message = failure.kind === "ACCESS_DENIED" ? `These credentials are not allowed to perform ${failure.action}.` : failure.message;
  return { code, message, field };
}

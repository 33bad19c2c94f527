// Thrown errors with a stable `extensions.code`. Expected, user-fixable problems are returned as
// `userErrors` instead (see codes.ts).
import { GraphQLError } from "graphql";
import { ErrorCode, type UserErrorData } from "./codes.js";

export class UnauthenticatedError extends GraphQLError {
  constructor(message = "Authentication required: send `Authorization: Bearer <token>`.") {
    super(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(message = "You do not have the role this operation needs.") {
    super(message, { extensions: { code: ErrorCode.FORBIDDEN } });
  }
}

export class BadUserInputError extends GraphQLError {
  constructor(message: string, argumentName?: string) {
    super(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...(argumentName ? { argumentName } : {}) } });
  }
}

export class ServiceUnavailableError extends GraphQLError {
  constructor(message = "The service is temporarily unavailable (its database cannot be reached); retry shortly.") {
    super(message, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } } });
  }
}

/**
 * A query (which has no userErrors) that AWS refused or failed: thrown with the same code a
 * mutation would report, e.g. AWS_ACCESS_DENIED naming the action.
 */
export class AwsQueryError extends GraphQLError {
  constructor(problem: UserErrorData) {
    super(problem.message, { extensions: { code: problem.code, ...(problem.field ? { field: problem.field } : {}) } });
  }
}

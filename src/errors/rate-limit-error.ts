import { GraphQLError } from "graphql";
import { ErrorCode } from "./codes.js";

export class RateLimitedError extends GraphQLError {
  constructor(what: string, retryAfterSeconds: number) {
    super(`Too many ${what}; retry in ${retryAfterSeconds} s.`, {
      extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds, http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) } },
    });
  }
}

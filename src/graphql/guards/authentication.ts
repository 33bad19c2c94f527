// Who is calling: the bearer token, from the Authorization header (HTTP) or the connection
// parameters (WebSocket), verified first. Only a failure counts against the client address's
// failed-authentication limit, so a valid token is never refused by it, while an address that
// keeps sending bad tokens is slowed down (RATE_LIMITED instead of UNAUTHENTICATED).
import { GraphQLError } from "graphql";
import { isDatabaseUnavailable } from "../../db/availability.js";
import { ServiceUnavailableError, UnauthenticatedError } from "../../errors/errors.js";
import type { Services } from "../../server/services.js";
import { bearerToken } from "../../users/api-token.js";
import type { Viewer } from "../../users/viewer.js";
import type { RateLimits } from "./rate-limits.js";

const UNKNOWN_TOKEN = "The API token is unknown, revoked or expired.";
const MALFORMED_AUTHORIZATION = "Malformed Authorization: expected `Bearer <token>`.";

/**
 * The caller, or null without credentials. Throws UNAUTHENTICATED for a token that is sent but not
 * valid (RATE_LIMITED once its address has failed too often), SERVICE_UNAVAILABLE when the
 * database cannot be reached.
 */
export async function authenticate(services: Services, rateLimits: RateLimits, authorization: string | undefined, address: string): Promise<Viewer | null> {
  if (!authorization) return null;
  const token = bearerToken(authorization);
  let viewer: Viewer | null = null;
  try {
    viewer = token ? await services.tokens.authenticate(token) : null;
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw new ServiceUnavailableError();
    throw error;
  }
  if (viewer) return viewer;
  await rateLimits.recordAuthFailure(address);
  throw new UnauthenticatedError(token ? UNKNOWN_TOKEN : MALFORMED_AUTHORIZATION);
}

/** A refusal of the credentials themselves (as opposed to a failure while checking them). */
export const isCredentialRefusal = (error: unknown): error is GraphQLError =>
  error instanceof GraphQLError && (error.extensions.code === "UNAUTHENTICATED" || error.extensions.code === "RATE_LIMITED");

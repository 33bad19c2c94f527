import type { ExpressContextFunctionArgument } from "@as-integrations/express5";
import { GraphQLError } from "graphql";
import { bearerToken } from "../../users/api-token.js";
import type { Viewer } from "../../users/viewer.js";
import type { Database } from "../../db/prisma.js";
import { isDatabaseUnavailable } from "../../db/availability.js";
import { ServiceUnavailableError, UnauthenticatedError } from "../../errors/errors.js";
import { ErrorCode } from "../../errors/codes.js";
import type { EventBus } from "../../events/event-bus.js";
import type { Context } from "../context.js";
import { createLoaders } from "../loaders.js";
import type { Logger } from "../../logging/logger.js";
import type { Services } from "../../server/services.js";
import type { RateLimits } from "./rate-limits.js";

interface Deps {
  events: EventBus;
  rateLimits: RateLimits;
  services: Services;
  database: Database;
  logger: Logger;
}

/**
 * Resolves the caller from a bearer token; a token that is sent but not valid is refused
 * outright, and an address that keeps sending bad tokens is slowed down.
 */
export async function resolveViewer(services: Services, rateLimits: RateLimits, address: string, authorization: string | undefined): Promise<Viewer | null> {
  if (!authorization) return null;
  await rateLimits.assertMayAuthenticate(address).catch((error: unknown) => {
    services.audit.recordAuthFailure(address, ErrorCode.RATE_LIMITED);
    throw error;
  });
  const token = bearerToken(authorization);
  const viewer = token ? await services.tokens.authenticate(token) : null;
  if (viewer) return viewer;
  await rateLimits.recordAuthFailure(address);
  services.audit.recordAuthFailure(address, ErrorCode.UNAUTHENTICATED);
  throw new UnauthenticatedError(token ? "The API token is unknown, revoked or expired." : "Malformed Authorization header: expected `Bearer <token>`.");
}

export function createContextFactory({ services, database, logger, events, rateLimits }: Deps) {
  return async ({ req, res }: ExpressContextFunctionArgument): Promise<Context> => {
    const requestId = String(res.locals.requestId);
    try {
      const clientAddress = req.socket.remoteAddress ?? "unknown";
      const viewer = await resolveViewer(services, rateLimits, clientAddress, req.headers.authorization);
      return { viewer, requestId, services, loaders: createLoaders(database.prisma), logger: logger.child({ requestId }), events, rateLimits, clientAddress };
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (isDatabaseUnavailable(error)) throw new ServiceUnavailableError();
      throw error;
    }
  };
}

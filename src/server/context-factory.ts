import type { ExpressContextFunctionArgument } from "@as-integrations/express5";
import { GraphQLError } from "graphql";
import { bearerToken } from "../auth/api-token.js";
import type { Viewer } from "../auth/viewer.js";
import type { Database } from "../db/prisma.js";
import { isDatabaseUnavailable } from "../db/availability.js";
import { ServiceUnavailableError, UnauthenticatedError } from "../errors/errors.js";
import type { Context } from "../graphql/context.js";
import { createLoaders } from "../graphql/loaders.js";
import type { Logger } from "../logging/logger.js";
import type { Services } from "../services/services.js";

interface Deps {
  services: Services;
  database: Database;
  logger: Logger;
}

/** Resolves the caller from a bearer token; a token that is sent but not valid is refused outright. */
export async function resolveViewer(services: Services, authorization: string | undefined): Promise<Viewer | null> {
  if (!authorization) return null;
  const token = bearerToken(authorization);
  if (!token) throw new UnauthenticatedError("Malformed Authorization header: expected `Bearer <token>`.");
  const viewer = await services.tokens.authenticate(token);
  if (!viewer) throw new UnauthenticatedError("The API token is unknown, revoked or expired.");
  return viewer;
}

export function createContextFactory({ services, database, logger }: Deps) {
  return async ({ req, res }: ExpressContextFunctionArgument): Promise<Context> => {
    const requestId = String(res.locals.requestId);
    try {
      const viewer = await resolveViewer(services, req.headers.authorization);
      return { viewer, requestId, services, loaders: createLoaders(database.prisma), logger: logger.child({ requestId }) };
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (isDatabaseUnavailable(error)) throw new ServiceUnavailableError();
      throw error;
    }
  };
}

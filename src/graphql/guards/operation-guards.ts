// What every operation goes through, whichever door it comes in by: one definition, built once at
// start-up, that the HTTP door (Apollo, apollo-guards.ts) and the WebSocket door (graphql-ws,
// websocket-guards.ts) only adapt. It holds
// - the validation rules: graphql-armor's query limits and the introspection switch (on top of
//   graphql-js's own rules), and the token limit, counted before parsing;
// - the error formatter: masking with correlation ids, no echoed input values, no suggestions while
//   introspection is off, stack traces only with DEBUG_ERRORS;
// - authentication with the failed-authentication limit, from the client address TRUST_PROXY
//   decides; the AWS-call limit is a resolver middleware and reads the same context;
// - the context each operation runs with, and a fresh one for each subscription event (new
//   DataLoaders: an event must not see what an earlier one cached).
import type { IncomingMessage } from "node:http";
import type { ValidationRule } from "graphql";
import type { Database } from "../../db/prisma.js";
import type { EventBus } from "../../events/event-bus.js";
import { clientAddress, trustFunction, type TrustProxy } from "../../http/client-address.js";
import type { Logger } from "../../logging/logger.js";
import type { Services } from "../../server/services.js";
import type { Viewer } from "../../users/viewer.js";
import type { Context } from "../context.js";
import { createLoaders } from "../loaders.js";
import { authenticate } from "./authentication.js";
import { createFormatError, type FormatError } from "./format-error.js";
import { queryLimits, type QueryLimits } from "./query-limits.js";
import type { RateLimits } from "./rate-limits.js";

export interface OperationGuardSettings {
  limits: QueryLimits;
  introspection: boolean;
  debugErrors: boolean;
  trustProxy: TrustProxy;
}

export interface OperationGuardDeps {
  services: Services;
  database: Database;
  logger: Logger;
  events: EventBus;
  rateLimits: RateLimits;
}

export interface OperationGuards {
  /** Validation rules beyond graphql-js's specified rules. */
  validationRules: ValidationRule[];
  maxTokens: number;
  debugErrors: boolean;
  formatError: FormatError;
  /** The client behind any trusted proxies. */
  clientAddress(request: IncomingMessage): string;
  /** The trust function Express's `trust proxy` is set to, so `req.ip` agrees with clientAddress. */
  trustProxy: (address: string, hop: number) => boolean;
  /** The caller (null: no credentials); throws UNAUTHENTICATED, RATE_LIMITED or SERVICE_UNAVAILABLE. */
  authenticate(authorization: string | undefined, clientAddress: string): Promise<Viewer | null>;
  /** The context of one operation. */
  context(caller: { viewer: Viewer | null; requestId: string; clientAddress: string }): Context;
  /** The context of one subscription event: the same caller, nothing cached from earlier events. */
  freshContext(context: Context): Context;
}

export function createOperationGuards(settings: OperationGuardSettings, deps: OperationGuardDeps): OperationGuards {
  const { services, database, logger, events, rateLimits } = deps;
  const { validationRules, maxTokens } = queryLimits(settings.limits, settings.introspection);
  const trust = trustFunction(settings.trustProxy);
  return {
    validationRules,
    maxTokens,
    debugErrors: settings.debugErrors,
    formatError: createFormatError(logger, { debug: settings.debugErrors, hideSuggestions: !settings.introspection }),
    clientAddress: (request) => clientAddress(request, trust),
    trustProxy: trust,
    authenticate: (authorization, address) => authenticate(services, rateLimits, authorization, address),
    context: ({ viewer, requestId, clientAddress }) => ({
      viewer,
      requestId,
      clientAddress,
      services,
      events,
      rateLimits,
      loaders: createLoaders(database.prisma, database.pool),
      logger: logger.child({ requestId }),
    }),
    freshContext: (context) => ({ ...context, loaders: createLoaders(database.prisma, database.pool) }),
  };
}

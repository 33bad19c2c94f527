// The HTTP door: the operation guards as Apollo Server options. Apollo parses, validates (with the
// guards' rules), runs and formats (with the guards' formatter); this adds only what Apollo needs
// to be told: when to count tokens, how to report errors its hooks throw, and the context.
import type { ApolloServerOptions, ApolloServerPlugin } from "@apollo/server";
import type { ExpressContextFunctionArgument } from "@as-integrations/express5";
import { GraphQLError } from "graphql";
import type { Context } from "../context.js";
import type { OperationGuards } from "./operation-guards.js";
import { exceedsTokenLimit, tokenLimitMessage } from "./query-limits.js";

type GuardOptions = Pick<ApolloServerOptions<Context>, "introspection" | "validationRules" | "formatError" | "includeStacktraceInErrorResponses"> & {
  plugins: ApolloServerPlugin<Context>[];
};

export function apolloGuards(guards: OperationGuards): GuardOptions {
  return {
    // The introspection switch is one of the guards' validation rules (the same on every door), so
    // Apollo's own copy of it stays off.
    introspection: true,
    validationRules: guards.validationRules,
    formatError: guards.formatError,
    includeStacktraceInErrorResponses: guards.debugErrors,
    plugins: [requestGuards(guards.maxTokens)],
  };
}

/** Authenticates each HTTP request and gives it its context. */
export function apolloContext(guards: OperationGuards) {
  return async ({ req, res }: ExpressContextFunctionArgument): Promise<Context> => {
    const clientAddress = guards.clientAddress(req);
    const viewer = await guards.authenticate(req.headers.authorization, clientAddress);
    return guards.context({ viewer, requestId: String(res.locals.requestId), clientAddress });
  };
}

class TokenLimitExceeded extends Error {}

const badRequest = (message: string, original?: GraphQLError) =>
  new GraphQLError(message, { nodes: original?.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } } });

/**
 * The token limit, checked before Apollo parses a document it has not cached, and the errors
 * Apollo calls "unexpected" because a hook or a validation rule threw them.
 *
 * A parsing hook may only fail by throwing, which Apollo reports through
 * `unexpectedErrorProcessingRequest` (graphql-armor's own hook there turned *any* unexpected error,
 * a syntax error included, into a 500 carrying the internal message). And graphql-js's own
 * SingleFieldSubscriptionsRule throws (instead of reporting) on
 * `subscription { f @skip(if: $undeclared) }`. So, when Apollo reports an unexpected error:
 * - our token-limit refusal, or a GraphQLError thrown while validating, becomes a 400
 *   GRAPHQL_VALIDATION_FAILED with its message (graphql-js writes those about the document);
 * - anything else stays a 500, but carries the original error, so the error formatter masks it
 *   and logs its message and stack under the correlation id (Apollo alone would replace it with a
 *   bare "Internal server error" and print the detail to the console, out of the JSON log).
 * It also refuses subscriptions over HTTP with a 400 BAD_REQUEST.
 */
export function requestGuards<TContext extends object>(maxTokens: number): ApolloServerPlugin<TContext> {
  const validating = new WeakSet<object>();
  return {
    async unexpectedErrorProcessingRequest({ requestContext, error }) {
      if (error instanceof TokenLimitExceeded) throw badRequest(error.message);
      if (error instanceof GraphQLError && validating.has(requestContext)) throw badRequest(error.message, error);
      throw new GraphQLError(`Unexpected error processing the request: ${error.message}`, { originalError: error });
    },
    async requestDidStart() {
      return {
        async parsingDidStart({ source }) {
          if (exceedsTokenLimit(source, maxTokens)) throw new TokenLimitExceeded(tokenLimitMessage(maxTokens));
        },
        async validationDidStart(requestContext) {
          validating.add(requestContext);
          return async () => {
            validating.delete(requestContext);
          };
        },
        // Apollo would execute a subscription over HTTP as a query, and its root field (which only
        // resolves events) would fail with an internal error.
        async didResolveOperation({ operation }) {
          if (operation?.operation === "subscription") {
            throw new GraphQLError("Subscriptions are served over WebSocket (graphql-ws protocol) on /graphql, not over HTTP.", {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

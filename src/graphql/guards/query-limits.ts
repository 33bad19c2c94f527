// Query limits from graphql-armor: depth, cost, aliases and directives, each answered with an
// error that names the limit (exposeLimits); the token limit is counted here (see requestGuards),
// which also keeps malformed requests from becoming 500s. Field suggestions ("Did you mean …?")
// leak the schema when introspection is off, so they are removed exactly then: from every error
// of the request (validation, variable coercion, enum values), not only field-name errors.
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, Lexer, Source, TokenKind } from "graphql";

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 12, maxCost: 20_000, maxAliases: 15, maxDirectives: 50, maxTokens: 2_000 };

/**
 * graphql-js phrases suggestions as `Did you mean "x"?`, `Did you mean "x", "y", or "z"?` and
 * `Did you mean the enum value "X"?`. graphql-armor's own filter only knows the first two and
 * leaves the original error's message (which the error formatter reads) untouched.
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export const withoutSuggestions = (message: string): string => message.replace(SUGGESTION, "");

function hideSuggestions<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            error.message = withoutSuggestions(error.message);
            if (error.originalError) error.originalError.message = withoutSuggestions(error.originalError.message);
          }
        },
      };
    },
  };
}

class TokenLimitExceeded extends Error {}

/** More than `max` tokens? Lexing only (no parse); a lexical error is left to Apollo's parser. */
export function exceedsTokenLimit(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++count > max) return true;
    }
  } catch {
    return false;
  }
  return false;
}

const badRequest = (message: string, original?: GraphQLError) =>
  new GraphQLError(message, { nodes: original?.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } } });

/**
 * The token limit, checked before Apollo parses a document it has not cached, and the errors
 * Apollo calls "unexpected" because a hook or a validation rule threw them.
 *
 * graphql-armor's token limit parses every document a second time and, because a parsing hook
 * may only fail by throwing, answers HTTP 500; its `unexpectedErrorProcessingRequest` hook also
 * turned *any* unexpected error (a syntax error included) into a 500 "GRAPHQL_VALIDATION_FAILED"
 * carrying the internal message. And graphql-js's own SingleFieldSubscriptionsRule throws
 * (instead of reporting) on `subscription { f @skip(if: $undeclared) }`. So, when Apollo reports an
 * unexpected error:
 * - our token-limit refusal, or a GraphQLError thrown while validating, becomes a 400
 *   GRAPHQL_VALIDATION_FAILED with its message (graphql-js writes those about the document);
 * - anything else stays a 500, but carries the original error, so the error formatter masks it
 *   and logs its message and stack under the correlation id (Apollo alone would replace it with a
 *   bare "Internal server error" and print the detail to the console, out of the JSON log).
 * It also refuses subscriptions over HTTP with a 400 BAD_REQUEST.
 */
function requestGuards<TContext extends object>(maxTokens: number): ApolloServerPlugin<TContext> {
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
          if (exceedsTokenLimit(source, maxTokens)) throw new TokenLimitExceeded(`Token limit of ${maxTokens} exceeded.`);
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

export function queryLimits(limits: QueryLimits, introspection: boolean) {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return { ...armor, plugins: [...armor.plugins, requestGuards(limits.maxTokens), ...(introspection ? [] : [hideSuggestions()])] };
}

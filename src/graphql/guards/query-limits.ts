// The rules every document is validated against, on every door: graphql-armor's depth, cost,
// alias and directive limits (each error names its limit: exposeLimits), the introspection switch,
// and the token limit, which is counted by lexing before a document is parsed. Field suggestions
// ("Did you mean …?") leak the schema when introspection is off, so the error formatter removes
// them exactly then (withoutSuggestions), from every error, not only field-name errors.
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, Lexer, Source, TokenKind, type ValidationContext, type ValidationRule } from "graphql";

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
 * `Did you mean the enum value "X"?`. graphql-armor's own filter only knows the first two.
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export const withoutSuggestions = (message: string): string => message.replace(SUGGESTION, "");

/** More than `max` tokens? Lexing only (no parse); a lexical error is left to the parser. */
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

export const tokenLimitMessage = (max: number) => `Token limit of ${max} exceeded.`;

/** INTROSPECTION=false: `__schema` and `__type` are refused (`__typename` is not introspection). */
export const NoIntrospection: ValidationRule = (context: ValidationContext) => ({
  Field(node) {
    if (node.name.value === "__schema" || node.name.value === "__type") {
      context.reportError(
        new GraphQLError(`Introspection is disabled on this server; the query asks for ${node.name.value}.`, {
          nodes: [node],
          extensions: { validationErrorCode: "INTROSPECTION_DISABLED" },
        }),
      );
    }
  },
});

/** The validation rules beyond graphql-js's own, and the token limit. */
export function queryLimits(limits: QueryLimits, introspection: boolean): { validationRules: ValidationRule[]; maxTokens: number } {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    // Counted by exceedsTokenLimit instead: armor's parses each document a second time, and its
    // refusal (a throw from a parsing hook) became an HTTP 500.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return { validationRules: [...(armor.validationRules as ValidationRule[]), ...(introspection ? [] : [NoIntrospection])], maxTokens: limits.maxTokens };
}

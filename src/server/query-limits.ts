// Query limits from graphql-armor: depth, cost, aliases, directives and tokens, each answered
// with an error that names the limit (exposeLimits). Field suggestions ("Did you mean …?") leak
// the schema when introspection is off, so they are blocked exactly then.
import { ApolloArmor } from "@escape.tech/graphql-armor";

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 12, maxCost: 20_000, maxAliases: 15, maxDirectives: 50, maxTokens: 2_000 };

export function queryLimits(limits: QueryLimits, introspection: boolean) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    maxTokens: { n: limits.maxTokens, exposeLimits: true },
    blockFieldSuggestion: { enabled: !introspection },
  }).protect();
}

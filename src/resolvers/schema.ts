// The single place that lists resolvers and schema options.
import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { GraphQLDateTime, GraphQLJSON } from "graphql-scalars";
import { buildSchema, type PubSub } from "type-graphql";
import { resolvers } from "./index.js";
import { RequireAuthentication } from "../graphql/current-viewer.js";
import { AuditMutations } from "../graphql/guards/audit-mutations.js";

/**
 * Every subscription here supplies its own `subscribe` (current state, then live events from the
 * EventBus), so type-graphql's topic-based PubSub is never used; it still insists on one.
 */
const topicsUnused: PubSub = {
  publish() {
    throw new Error("topic-based subscriptions are not used; publish through the EventBus");
  },
  subscribe() {
    throw new Error("topic-based subscriptions are not used; each subscription supplies `subscribe`");
  },
};

export async function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    // AuditMutations first: it records what RequireAuthentication and the resolvers refuse, too.
    globalMiddlewares: [AuditMutations, RequireAuthentication],
    scalarsMap: [
      { type: Date, scalar: GraphQLDateTime },
      { type: Object, scalar: GraphQLJSON },
    ],
    // Inputs are checked by the services (errors/validation.ts), which answer with a userError per
    // field. No class-validator constraint is declared (the package is not even installed), so
    // type-graphql's pass over every argument object found nothing to check, yet cost a dynamic
    // import of class-validator per argument on every request.
    validate: false,
    pubSub: topicsUnused,
  });
}

/** The committed schema.graphql: sorted so that diffs show only real changes. */
export function printApiSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

// The single place that lists resolvers and schema options.
import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { GraphQLDateTime, GraphQLJSON } from "graphql-scalars";
import { buildSchema, type PubSub } from "type-graphql";
import { resolvers } from "../resolvers/index.js";
import { RequireAuthentication } from "./current-viewer.js";

export async function buildApiSchema(pubSub?: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    globalMiddlewares: [RequireAuthentication],
    scalarsMap: [
      { type: Date, scalar: GraphQLDateTime },
      { type: Object, scalar: GraphQLJSON },
    ],
    // Never echo the offending value: it may be a secret.
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
    ...(pubSub ? { pubSub } : {}),
  });
}

/** The committed schema.graphql: sorted so that diffs show only real changes. */
export function printApiSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

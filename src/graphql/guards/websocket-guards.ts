// The WebSocket door: the operation guards as graphql-ws server options. graphql-ws carries
// queries and mutations as well as subscriptions, and by default only parses and runs graphql-js's
// plain validation; here every operation goes through what an HTTP request goes through:
// - connection_init: a token that is sent is verified; an unknown, revoked or expired one closes
//   the connection with 4403 (Forbidden), the reason saying why (or when to retry, once the
//   address is rate-limited). Without a token the connection is accepted; operations that need a
//   caller answer UNAUTHENTICATED, as over HTTP;
// - each operation: authenticated again (a token revoked while the socket is open stops working),
//   the token limit, parsing, the same validation rules, then execution with its own context;
//   each subscription event with a fresh one;
// - every error that leaves: the same formatter (masking, correlation ids, no echoed values).
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import type { Context as WsContext, ServerOptions, SubscribePayload } from "graphql-ws";
import { ErrorCode } from "../../errors/codes.js";
import type { WebSocketExtra } from "../../http/websocket-server.js";
import type { Context } from "../context.js";
import { isCredentialRefusal } from "./authentication.js";
import { formatForClient } from "./format-error.js";
import type { OperationGuards } from "./operation-guards.js";
import { exceedsTokenLimit, tokenLimitMessage } from "./query-limits.js";

type ConnectionParams = Record<string, unknown> | undefined;
type Ctx = WsContext<ConnectionParams, WebSocketExtra>;

const FORBIDDEN = 4403;

const authorizationOf = (params: ConnectionParams): string | undefined => {
  const value = params?.Authorization ?? params?.authorization;
  return typeof value === "string" && value !== "" ? value : undefined;
};

/** The same codes Apollo gives errors about the request itself. */
const coded = (error: GraphQLError, code: string) =>
  new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error.originalError ?? error, extensions: { ...error.extensions, code } });

const asGraphQLError = (error: unknown): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined });

/** graphql-js reports bad variable values without a code; Apollo calls them BAD_USER_INPUT. */
const isVariableError = (error: GraphQLError) =>
  !error.path && error.extensions.code === undefined && error.nodes?.length === 1 && error.nodes[0]!.kind === Kind.VARIABLE_DEFINITION;

export function websocketGuards(schema: GraphQLSchema, guards: OperationGuards): ServerOptions<ConnectionParams, WebSocketExtra> {
  const rules = [...specifiedRules, ...guards.validationRules];
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => formatForClient(isVariableError(error) ? coded(error, ErrorCode.BAD_USER_INPUT) : error, guards.formatError, guards.debugErrors));

  /** Parses and validates a document as the HTTP door does; the errors to answer with, or the document. */
  const check = (payload: SubscribePayload): DocumentNode | GraphQLError[] => {
    if (exceedsTokenLimit(payload.query, guards.maxTokens)) {
      return [new GraphQLError(tokenLimitMessage(guards.maxTokens), { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })];
    }
    let document: DocumentNode;
    try {
      document = parse(payload.query);
    } catch (error) {
      if (error instanceof GraphQLError) return [coded(error, "GRAPHQL_PARSE_FAILED")];
      throw error;
    }
    try {
      const errors = validate(schema, document, rules);
      if (errors.length) return errors.map((error) => coded(error, "GRAPHQL_VALIDATION_FAILED"));
    } catch (error) {
      // graphql-js's SingleFieldSubscriptionsRule throws on some documents instead of reporting.
      if (error instanceof GraphQLError) return [coded(error, "GRAPHQL_VALIDATION_FAILED")];
      throw error;
    }
    if (!getOperationAST(document, payload.operationName)) {
      const message = payload.operationName ? `Unknown operation named "${payload.operationName}".` : "Must provide operation name if query contains multiple operations.";
      return [new GraphQLError(message, { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
    }
    return document;
  };

  return {
    schema,
    async onConnect(ctx: Ctx) {
      const authorization = authorizationOf(ctx.connectionParams);
      if (!authorization) return true;
      try {
        await guards.authenticate(authorization, guards.clientAddress(ctx.extra.request));
        return true;
      } catch (error) {
        if (!isCredentialRefusal(error)) return true; // e.g. the database is down: each operation will say so
        const reason = error.extensions.code === ErrorCode.RATE_LIMITED ? error.message : `Forbidden: ${error.message[0]!.toLowerCase()}${error.message.slice(1)}`;
        ctx.extra.socket.close(FORBIDDEN, reason);
        return false;
      }
    },
    async onSubscribe(ctx: Ctx, id, payload): Promise<ExecutionArgs | GraphQLError[]> {
      const clientAddress = guards.clientAddress(ctx.extra.request);
      let viewer;
      try {
        viewer = await guards.authenticate(authorizationOf(ctx.connectionParams), clientAddress);
      } catch (error) {
        return [asGraphQLError(error)];
      }
      const document = check(payload);
      if (Array.isArray(document)) return document;
      return {
        schema,
        document,
        variableValues: payload.variables,
        operationName: payload.operationName,
        contextValue: guards.context({ viewer, requestId: `${ctx.extra.connectionId}:${id}`, clientAddress }),
      };
    },
    subscribe: (args) => subscribeWithFreshContexts(args, guards.freshContext),
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    onError: (_ctx, _id, _payload, errors) => format(errors),
  };
}

/**
 * graphql-js's `subscribe`, except that each event is executed with a fresh context: graphql-js
 * reuses the subscription's context for every event, and with it the DataLoaders, which would
 * answer every event with what the first one read.
 */
async function subscribeWithFreshContexts(args: ExecutionArgs, fresh: (context: Context) => Context) {
  const events = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in events)) return events as ExecutionResult;
  return mapEvents(events, (event) => execute({ ...args, rootValue: event, contextValue: fresh(args.contextValue as Context) }));
}

/** Maps each event; ending the result (the client unsubscribed) ends the source at once. */
function mapEvents<T, R>(source: AsyncIterable<T>, map: (event: T) => R | Promise<R>): AsyncIterableIterator<R> & { return(): Promise<IteratorResult<R>> } {
  const iterator = source[Symbol.asyncIterator]();
  const end = async (): Promise<IteratorResult<R>> => {
    await iterator.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      const event = await iterator.next();
      if (event.done) return { value: undefined, done: true };
      try {
        return { value: await map(event.value), done: false };
      } catch (error) {
        await end();
        throw error;
      }
    },
    return: end,
    async throw(error: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// GraphQL request metrics from both doors: an Apollo plugin for HTTP, and wrappers of
// graphql-ws's execute/subscribe for WebSocket.
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { execute, getOperationAST, subscribe, type ExecutionArgs } from "graphql";
import type { ServerOptions } from "graphql-ws";
import type { Metrics } from "./metrics.js";

const secondsSince = (started: number) => (performance.now() - started) / 1000;

export function graphqlMetricsPlugin<C extends BaseContext>(metrics: Metrics): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, request, errors, response }) {
          const resultErrors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
          const failed = Boolean(errors?.length || resultErrors?.length);
          metrics.observeGraphql(operationName ?? request.operationName, failed ? "error" : "ok", secondsSince(started));
        },
      };
    },
  };
}

type Run<R> = (args: ExecutionArgs) => R;

const hasErrors = (result: unknown) => Array.isArray((result as { errors?: unknown } | null)?.errors) && (result as { errors: unknown[] }).errors.length > 0;

/** Wraps graphql-ws's `execute` or `subscribe` (an iterable result: a subscription set up). */
function timedOverWebSocket<R>(metrics: Metrics, run: Run<R | Promise<R>>): Run<Promise<R>> {
  return async (args) => {
    const started = performance.now();
    const name = args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value;
    try {
      const result = await run(args);
      metrics.observeGraphql(name, hasErrors(result) ? "error" : "ok", secondsSince(started));
      return result;
    } catch (error) {
      metrics.observeGraphql(name, "error", secondsSince(started));
      throw error;
    }
  };
}

/** graphql-ws server options whose operations (and subscriptions' set-up) are counted and timed. */
export function withWebSocketMetrics<P extends Record<string, unknown> | undefined, E>(metrics: Metrics, options: ServerOptions<P, E>): ServerOptions<P, E> {
  return {
    ...options,
    execute: timedOverWebSocket(metrics, options.execute ?? execute),
    subscribe: timedOverWebSocket(metrics, options.subscribe ?? subscribe),
  };
}

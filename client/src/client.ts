// A tiny typed client for the backend-hub GraphQL API.
//
// `request` sends a generated `TypedDocumentString` over HTTP (GraphQL over HTTP, JSON) and returns
// the operation's typed `data`; variables are checked against the operation at compile time.
// `subscribe` runs a subscription over graphql-ws on the same URL. Any GraphQL error (or a non-JSON
// answer) throws a `GraphQLRequestError`. Expected, user-fixable problems of mutations are not
// errors: they come back in each payload's `userErrors` (see `assertNoUserErrors`).
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import type {
  ProvisioningRunUpdatedSubscription,
  TypedDocumentString,
  UserErrorCode,
} from "./generated/graphql.js";
import { ProvisioningRunUpdatedDocument } from "./generated/graphql.js";

export * from "./generated/graphql.js";

/** `extensions.code` values of thrown errors (queries can also throw a `UserErrorCode`). */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "INTERNAL_SERVER_ERROR"
  | "SERVICE_UNAVAILABLE"
  | "RATE_LIMITED"
  | "GRAPHQL_PARSE_FAILED"
  | "GRAPHQL_VALIDATION_FAILED"
  | "BAD_REQUEST"
  | UserErrorCode;

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  extensions?: { code?: ErrorCode | (string & {}); [key: string]: unknown };
}

/** Thrown when the server answers with GraphQL errors, or with something that is not GraphQL. */
export class GraphQLRequestError extends Error {
  override readonly name = "GraphQLRequestError";
  constructor(
    message: string,
    /** The response's `errors` (empty when the body was not a GraphQL response). */
    readonly errors: readonly GraphQLErrorEntry[],
    /** HTTP status; 0 for errors that came over the WebSocket. */
    readonly status: number,
    /** Partial `data` the server returned alongside the errors, if any. */
    readonly data?: unknown,
  ) {
    super(message);
  }

  /** `extensions.code` of the first error, e.g. "UNAUTHENTICATED". */
  get code(): ErrorCode | (string & {}) | undefined {
    return this.errors[0]?.extensions?.code;
  }

  /** True when any error carries `code`. */
  hasCode(code: ErrorCode): boolean {
    return this.errors.some((error) => error.extensions?.code === code);
  }
}

/** Variables are optional for operations without required variables, and required otherwise. */
// NoInfer: the variables object must match the document's variables (else TypeScript would infer them
// from the object too, and an unknown input field would slip through).
export type VariablesArgument<TVariables> = NoInfer<{} extends TVariables ? [variables?: TVariables] : [variables: TVariables]>;

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql (subscriptions use ws:// on it). */
  url: string;
  /** An API token; sent as `Authorization: Bearer <token>` (and in connection_init for subscriptions). */
  token?: string;
  /** Extra HTTP headers for every request. */
  headers?: Record<string, string>;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  /**
   * A WebSocket constructor for subscriptions; defaults to the global WebSocket (Node 22+,
   * browsers), else the `ws` package.
   */
  webSocketImpl?: unknown;
}

export interface Client {
  /** Runs a query or mutation and returns its typed `data`; throws `GraphQLRequestError` on errors. */
  request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...variables: VariablesArgument<TVariables>
  ): Promise<TResult>;
  /**
   * Runs a subscription; yields each event's typed `data` until the server completes it. Throws
   * `GraphQLRequestError` on errors. Breaking out of the loop unsubscribes.
   */
  subscribe<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...variables: VariablesArgument<TVariables>
  ): AsyncGenerator<TResult, void, undefined>;
  /** Closes the subscription connection, if one was opened. */
  dispose(): Promise<void>;
}

export function createClient(options: ClientOptions): Client {
  const doFetch = options.fetch ?? globalThis.fetch;
  let ws: Promise<WsClient> | undefined;

  const connect = (): Promise<WsClient> =>
    (ws ??= (async () => {
      const webSocketImpl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket ?? (await import("ws")).default;
      return createWsClient({
        url: options.url.replace(/^http/, "ws"),
        webSocketImpl,
        connectionParams: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        lazy: true,
        retryAttempts: 3,
      });
    })());

  return {
    async request<TResult, TVariables>(
      document: TypedDocumentString<TResult, TVariables>,
      ...[variables]: VariablesArgument<TVariables>
    ): Promise<TResult> {
      const response = await doFetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      });
      const text = await response.text();
      let body: { data?: TResult | null; errors?: GraphQLErrorEntry[] };
      try {
        body = JSON.parse(text);
      } catch {
        throw new GraphQLRequestError(`HTTP ${response.status} from ${options.url}: ${text.slice(0, 200)}`, [], response.status);
      }
      if (body.errors?.length) {
        throw new GraphQLRequestError(describe(body.errors), body.errors, response.status, body.data ?? undefined);
      }
      if (!response.ok || body.data == null) {
        throw new GraphQLRequestError(`HTTP ${response.status} from ${options.url} without data`, [], response.status);
      }
      return body.data;
    },

    async *subscribe<TResult, TVariables>(
      document: TypedDocumentString<TResult, TVariables>,
      ...[variables]: VariablesArgument<TVariables>
    ): AsyncGenerator<TResult, void, undefined> {
      const client = await connect();
      const events = client.iterate<TResult>({
        query: document.toString(),
        variables: (variables ?? {}) as Record<string, unknown>,
      });
      try {
        for await (const event of events) {
          if (event.errors?.length) {
            const errors = event.errors as unknown as GraphQLErrorEntry[];
            throw new GraphQLRequestError(describe(errors), errors, 0, event.data ?? undefined);
          }
          if (event.data != null) yield event.data;
        }
      } catch (error) {
        // graphql-ws rejects with the errors array, or a CloseEvent, rather than an Error.
        if (error instanceof Error) throw error;
        if (Array.isArray(error)) throw new GraphQLRequestError(describe(error), error, 0);
        const close = error as { code?: number; reason?: string };
        throw new GraphQLRequestError(`subscription closed: ${close.code ?? "?"} ${close.reason ?? ""}`.trim(), [], 0);
      } finally {
        await events.return?.();
      }
    },

    async dispose() {
      if (ws) await (await ws).dispose();
      ws = undefined;
    },
  };
}

function describe(errors: readonly GraphQLErrorEntry[]): string {
  return errors.map((error) => (error.extensions?.code ? `${error.extensions.code}: ${error.message}` : error.message)).join("; ");
}

/** A payload's `userErrors` entry (same shape in every mutation payload). */
export interface UserErrorEntry {
  code: UserErrorCode;
  message: string;
  field: string[] | null;
}

/** Thrown by `assertNoUserErrors`. */
export class UserErrorsError extends Error {
  override readonly name = "UserErrorsError";
  constructor(
    readonly operation: string,
    readonly userErrors: readonly UserErrorEntry[],
  ) {
    super(`${operation}: ${userErrors.map((e) => `${e.code}${e.field ? ` (${e.field.join(".")})` : ""}: ${e.message}`).join("; ")}`);
  }
}

/** Throws `UserErrorsError` when a mutation payload reports userErrors; returns it otherwise. */
export function assertNoUserErrors<T extends { userErrors: readonly UserErrorEntry[] }>(operation: string, payload: T): T {
  if (payload.userErrors.length) throw new UserErrorsError(operation, payload.userErrors);
  return payload;
}

export type ProvisioningRunState = ProvisioningRunUpdatedSubscription["provisioningRunUpdated"];

/** True once a run can no longer change. */
export function isRunFinished(run: { status: string }): boolean {
  return run.status === "SUCCEEDED" || run.status === "FAILED";
}

/**
 * Watches a provisioning run over `provisioningRunUpdated`: yields the run now, then after every
 * change, and ends after the event in which it finished (SUCCEEDED or FAILED).
 */
export async function* watchProvisioningRun(client: Client, runId: string): AsyncGenerator<ProvisioningRunState, void, undefined> {
  for await (const event of client.subscribe(ProvisioningRunUpdatedDocument, { id: runId })) {
    yield event.provisioningRunUpdated;
    if (isRunFinished(event.provisioningRunUpdated)) return;
  }
}

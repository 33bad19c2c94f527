// A GraphQL-over-WebSocket (graphql-ws) client for tests, shaped like GraphQLClient so one test can
// run the same operation over either door. Each request opens its own connection (lazy, closed
// when idle), so each one authenticates at connection_init as an HTTP request does.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { GraphQLResponse } from "./graphql-client.js";

export interface WsResponse<T = any> extends Omit<GraphQLResponse<T>, "status"> {
  /** Set when the server closed the connection instead of answering (e.g. 4403 at connection_init). */
  closed?: { code: number; reason: string };
}

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === "object" && value !== null && typeof (value as { code?: unknown }).code === "number" && "reason" in value;

export class WsGraphQLClient {
  readonly url: string;

  /** `url`: the server's http(s) GraphQL URL; `headers`: sent with the upgrade request. */
  constructor(
    httpUrl: string,
    readonly token?: string,
    private readonly headers: Record<string, string> = {},
  ) {
    this.url = httpUrl.replace(/^http/, "ws");
  }

  /** Sends one operation and collects what comes back until it completes, fails or the socket closes. */
  async request<T = any>(query: string, variables?: Record<string, unknown>): Promise<WsResponse<T>> {
    const headers = this.headers;
    const client = createClient({
      url: this.url,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers });
        }
      },
      connectionParams: this.token ? { Authorization: `Bearer ${this.token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    const messages: unknown[] = [];
    const response: WsResponse<T> = { raw: "" };
    try {
      await new Promise<void>((resolve) => {
        client.subscribe<T>(
          { query, variables },
          {
            next: (result) => {
              messages.push(result);
              if (response.data === undefined && result.data !== undefined) response.data = result.data as T;
              if (result.errors) response.errors = [...(response.errors ?? []), ...(result.errors as WsResponse["errors"] & object)];
            },
            error: (error) => {
              if (isCloseEvent(error)) {
                response.closed = { code: error.code, reason: String(error.reason) };
                messages.push(response.closed);
              } else if (Array.isArray(error)) {
                response.errors = [...(response.errors ?? []), ...error];
                messages.push(error);
              } else {
                messages.push(String(error));
                response.closed = { code: -1, reason: String(error) };
              }
              resolve();
            },
            complete: resolve,
          },
        );
      });
    } finally {
      await client.dispose();
    }
    response.raw = JSON.stringify(messages);
    return response;
  }

  /** Runs the operation and fails the test on any GraphQL error or a closed connection. */
  async ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length || result.closed) throw new Error(`GraphQL request over WebSocket failed: ${result.raw}`);
    return result.data as T;
  }

  /** The `extensions.code` of the first error, for error-path assertions. */
  async errorCode(query: string, variables?: Record<string, unknown>): Promise<string | undefined> {
    const result = await this.request(query, variables);
    return result.errors?.[0]?.extensions?.code;
  }
}

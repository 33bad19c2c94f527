// The two doors of the API: GraphQL over HTTP and over WebSocket (graphql-ws). The hardening tests
// run each case through both, so a guard wired to one door only fails a test.
import { expect, vi } from "vitest";
import type { GraphQLResponse } from "../support/graphql-client.js";
import type { TestServer } from "../support/server.js";
import { WsGraphQLClient } from "../support/ws-client.js";

export interface Outcome<T = any> {
  /** The HTTP status (HTTP only). */
  status?: number;
  data?: T;
  errors?: GraphQLResponse["errors"];
  raw: string;
  /** The connection was closed instead of answered (WebSocket only). */
  closed?: { code: number; reason: string };
}

export interface OperationClient {
  request<T = any>(query: string, variables?: Record<string, unknown>): Promise<Outcome<T>>;
  /** Runs the operation and fails the test on any error. */
  ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export interface Transport {
  name: "HTTP" | "WebSocket";
  /** A client with the given token (or none); `headers` go with each HTTP request or the WebSocket upgrade. */
  client(t: TestServer, token?: string, headers?: Record<string, string>): OperationClient;
}

export const HTTP: Transport = {
  name: "HTTP",
  client(t, token, headers = {}) {
    const client = t.client(token);
    return {
      request: (query, variables) => client.request(query, variables, headers),
      async ok(query, variables) {
        const outcome = await client.request(query, variables, headers);
        if (outcome.errors?.length || outcome.status !== 200) throw new Error(`GraphQL request failed (${outcome.status}): ${outcome.raw}`);
        return outcome.data;
      },
    };
  },
};

export const WEBSOCKET: Transport = {
  name: "WebSocket",
  client: (t, token, headers) => new WsGraphQLClient(t.url, token, headers),
};

export const TRANSPORTS: Transport[] = [HTTP, WEBSOCKET];

/** The HTTP status where there is one; over WebSocket, that the operation was answered (not a closed socket). */
export function expectStatus(outcome: Outcome, status: number): void {
  if (outcome.status !== undefined) expect(outcome.status, outcome.raw).toBe(status);
  else expect(outcome.closed, outcome.raw).toBeUndefined();
}

/**
 * Records what reaches stderr (console.error included) while a suite runs: the server must log
 * through its JSON logger, never print a stack trace.
 */
export function watchStderr() {
  const written: string[] = [];
  const spies = [
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    }),
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(" "))),
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(" "))),
  ];
  return { written, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

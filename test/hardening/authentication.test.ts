// Authentication at both doors. A token that is unknown, revoked or expired is refused: over HTTP
// with 401 UNAUTHENTICATED, over WebSocket by closing the connection at connection_init with
// graphql-ws's 4403 (Forbidden); never with 4500 and never with a stack trace on stderr. A token
// revoked while a WebSocket stays open stops working for the next operation on it.
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../support/server.js";
import { TRANSPORTS, watchStderr, type Outcome } from "./transports.js";

const ME = "{ me { name } }";
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(id: $id) { userErrors { code } } }`;

describe("authentication", () => {
  let t: TestServer;
  const stderr = watchStderr();
  const newToken = async (name: string, expiresAt?: string) =>
    (await t.admin.ok(CREATE_TOKEN, { input: { name, expiresAt } })).createApiToken as { token: string; apiToken: { id: string } };

  beforeAll(async () => {
    t = await startTestServer({ RATE_LIMIT_AUTH_FAILURES: "1000" });
  });
  afterAll(async () => {
    stderr.restore();
    await t?.close();
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      /** A refused token, as each door refuses it. */
      const expectTokenRefused = (outcome: Outcome) => {
        expect(outcome.data?.me).toBeUndefined();
        if (transport.name === "HTTP") {
          expect(outcome.status).toBe(401);
          expect(outcome.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
          expect(outcome.errors?.[0]?.message).toBe("The API token is unknown, revoked or expired.");
        } else {
          expect(outcome.closed).toEqual({ code: 4403, reason: "Forbidden: the API token is unknown, revoked or expired." });
        }
      };

      it("a valid token is let in", async () => {
        expect((await transport.client(t, t.adminToken).ok(ME)).me.name).toBe("admin");
      });

      it("no token: each operation that needs a caller is UNAUTHENTICATED; __typename still answers", async () => {
        const anonymous = transport.client(t);
        const outcome = await anonymous.request(ME);
        expect(outcome.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
        expect((await anonymous.ok("{ __typename }")).__typename).toBe("Query");
      });

      it("an unknown token is refused", async () => {
        expectTokenRefused(await transport.client(t, "bh_not-a-real-token-000000000000000000000").request(ME));
      });

      it("a revoked token is refused", async () => {
        const { token, apiToken } = await newToken(`revoked-${transport.name}`);
        expect((await transport.client(t, token).ok(ME)).me.name).toBe("admin");
        await t.admin.ok(REVOKE, { id: apiToken.id });
        expectTokenRefused(await transport.client(t, token).request(ME));
      });

      it("an expired token is refused", async () => {
        const { token } = await newToken(`expiring-${transport.name}`, new Date(Date.now() + 1500).toISOString());
        expect((await transport.client(t, token).ok(ME)).me.name).toBe("admin");
        await new Promise((resolve) => setTimeout(resolve, 1700));
        expectTokenRefused(await transport.client(t, token).request(ME));
      });
    });
  }

  it("over WebSocket, a token revoked while the connection is open is UNAUTHENTICATED for the next operation on it", async () => {
    const { token, apiToken } = await newToken("revoked-while-connected");
    const client = createClient({ url: t.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
    const closes: number[] = [];
    client.on("closed", (event) => closes.push((event as { code: number }).code));
    try {
      /** The operation's result; errors sent as graphql-ws `error` messages are returned as `errors` too. */
      const once = async (query: string): Promise<{ data?: unknown; errors?: readonly { extensions?: Record<string, unknown> }[] }> => {
        try {
          for await (const result of client.iterate({ query })) return result;
        } catch (errors) {
          if (Array.isArray(errors)) return { errors };
          throw errors;
        }
        throw new Error("completed without a result");
      };
      expect((await once(ME)).data).toEqual({ me: { name: "admin" } });
      // A mutation over the same socket works too (graphql-ws carries queries and mutations as well).
      expect((await once(`mutation { createProject(input: { name: "over-websocket" }) { project { name } } }`)).data).toEqual({
        createProject: { project: { name: "over-websocket" } },
      });
      await t.admin.ok(REVOKE, { id: apiToken.id });
      const after = await once(ME);
      expect(after.data).toBeUndefined();
      expect(after.errors?.map((error) => error.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
      expect((await once(`mutation { createProject(input: { name: "after-revocation" }) { project { name } } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect((await t.admin.ok('{ project(name: "after-revocation") { id } }')).project).toBeNull();
    } finally {
      await client.dispose();
    }
    expect(closes.filter((code) => code !== 1000)).toEqual([]);
  });

  it("nothing was printed to stderr", () => {
    expect(stderr.written).toEqual([]);
  });
});

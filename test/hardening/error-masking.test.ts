// Unexpected errors through the real HTTP server: the client gets INTERNAL_SERVER_ERROR, a
// correlation id and nothing internal (no stack, no SQL, no file path, no driver message); the
// same id is in the log line that holds the details. DEBUG_ERRORS=true adds the stack trace.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { buildSchema } from "graphql";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logging/logger.js";
import { createFormatError } from "../../src/graphql/guards/format-error.js";
import { requestGuards } from "../../src/graphql/guards/apollo-guards.js";
import { DEFAULT_QUERY_LIMITS, queryLimits } from "../../src/graphql/guards/query-limits.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { expectStatus, TRANSPORTS, watchStderr } from "./transports.js";

const PROJECTS = "{ projects { edges { node { id name } } } }";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Words that would betray internals if they reached a client. */
const INTERNAL = /stack|\bat \S+ \(|\.ts:\d+|\.js:\d+|node_modules|prisma|invocation|\brelation\b|does not exist|SELECT|public\.|P20\d\d|42P01/i;

async function sql(databaseUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The parsed log line that carries this correlation id. */
function logLineWith(logs: string[], correlationId: string): Record<string, any> {
  const lines = logs.filter((line) => line.includes(correlationId));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

describe("error masking (DEBUG_ERRORS default: off)", () => {
  let t: TestServer;
  const stderr = watchStderr();
  beforeAll(async () => {
    t = await startTestServer();
    await t.admin.ok(`mutation { createProject(input: { name: "masking" }) { project { id } } }`);
  });
  afterAll(async () => {
    stderr.restore();
    await sql(t.databaseUrl, `ALTER TABLE IF EXISTS "Project_gone" RENAME TO "Project"`).catch(() => undefined);
    await sql(t.databaseUrl, `ALTER TABLE IF EXISTS "ApiToken_gone" RENAME TO "ApiToken"`).catch(() => undefined);
    await t?.close();
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      const admin = () => transport.client(t, t.adminToken);

      it("a failing resolver (its table is gone): INTERNAL_SERVER_ERROR, a correlation id, no internals; the log line has the details", async () => {
        await sql(t.databaseUrl, `ALTER TABLE "Project" RENAME TO "Project_gone"`);
        try {
          const response = await admin().request(PROJECTS);
          expectStatus(response, 200); // a field error: the rest of the response could still have data
          expect(response.data).toBeNull();
          expect(response.errors).toHaveLength(1);
          const [error] = response.errors!;
          expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
          const correlationId: string = error.extensions?.correlationId;
          expect(correlationId).toMatch(UUID);
          expect(error.message).toBe(`Internal server error (correlation id ${correlationId}).`);
          expect(error.path).toEqual(["projects"]);
          expect(Object.keys(error.extensions ?? {}).sort()).toEqual(["code", "correlationId"]);
          expect(response.raw).not.toMatch(INTERNAL);

          const line = logLineWith(t.logs, correlationId);
          expect(line.level).toBe(50);
          expect(line.msg).toBe("unexpected error");
          expect(line.path).toEqual(["projects"]);
          expect(line.err.message).toMatch(/Project.*does not exist/);
          expect(line.err.stack).toMatch(/projects\.service/);
        } finally {
          await sql(t.databaseUrl, `ALTER TABLE "Project_gone" RENAME TO "Project"`);
        }
        expect((await admin().ok(PROJECTS)).projects.edges).toHaveLength(1);
      });

      it("every unexpected error gets its own correlation id", async () => {
        await sql(t.databaseUrl, `ALTER TABLE "Project" RENAME TO "Project_gone"`);
        try {
          const ids = new Set<string>();
          for (let i = 0; i < 3; i++) ids.add((await admin().request(PROJECTS)).errors?.[0]?.extensions?.correlationId);
          expect(ids.size).toBe(3);
          for (const id of ids) logLineWith(t.logs, id);
        } finally {
          await sql(t.databaseUrl, `ALTER TABLE "Project_gone" RENAME TO "Project"`);
        }
      });

      it("a partial failure keeps the fields that worked and masks the one that failed", async () => {
        await sql(t.databaseUrl, `ALTER TABLE "Project" RENAME TO "Project_gone"`);
        try {
          const response = await admin().request(`{ me { name } awsRegions { code } ${PROJECTS.slice(1, -1)} }`);
          expect(response.data).toBeNull(); // projects is non-null, so the error bubbles to the root
          const partial = await admin().request(`{ me { name } project(name: "masking") { id } }`);
          expect(partial.data?.me).toEqual({ name: "admin" });
          expect(partial.data?.project).toBeNull();
          expect(partial.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
          expect(partial.raw).not.toMatch(INTERNAL);
        } finally {
          await sql(t.databaseUrl, `ALTER TABLE "Project_gone" RENAME TO "Project"`);
        }
      });

      it("a failure while authenticating (before any resolver) is masked the same way, with HTTP 500", async () => {
        await sql(t.databaseUrl, `ALTER TABLE "ApiToken" RENAME TO "ApiToken_gone"`);
        try {
          const response = await admin().request("{ me { id } }");
          expectStatus(response, 500);
          const [error] = response.errors!;
          expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
          expect(error.extensions?.correlationId).toMatch(UUID);
          expect(response.raw).not.toMatch(INTERNAL);
          expect(response.raw).not.toContain("Context creation failed");
          const line = logLineWith(t.logs, error.extensions?.correlationId);
          expect(line.err.message).toMatch(/ApiToken.*does not exist/);
        } finally {
          await sql(t.databaseUrl, `ALTER TABLE "ApiToken_gone" RENAME TO "ApiToken"`);
        }
        expect((await admin().ok("{ me { name } }")).me.name).toBe("admin");
      });

      it("expected errors keep their code and message, and carry no stack either", async () => {
        const responses = [
          await transport.client(t).request("{ me { id } }"), // UNAUTHENTICATED
          await admin().request('{ awsIamPolicy(bucketName: "NO") { json } }'), // BAD_USER_INPUT
          await admin().request("{ projects(first: 1000) { edges { cursor } } }"), // BAD_USER_INPUT
          await admin().request("{ nope }"), // GRAPHQL_VALIDATION_FAILED
          await admin().request("{ nope "), // GRAPHQL_PARSE_FAILED
        ];
        expect(responses.map((response) => response.errors?.[0]?.extensions?.code)).toEqual([
          "UNAUTHENTICATED",
          "BAD_USER_INPUT",
          "BAD_USER_INPUT",
          "GRAPHQL_VALIDATION_FAILED",
          "GRAPHQL_PARSE_FAILED",
        ]);
        for (const response of responses) {
          expect(response.raw).not.toMatch(/stacktrace|\bat \S+ \(|\.ts:\d+|node_modules/);
          expect(response.errors?.[0]?.extensions?.correlationId).toBeUndefined();
        }
      });

      it("an invalid value is refused without being echoed: the variable, the path and the reason stay, the value goes", async () => {
        const CREATE = "mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }";
        const echoed = "echoed-value-0123456789";
        for (const input of [{ name: "x", descriptio: echoed }, { name: { nested: echoed } }, { name: [echoed] }]) {
          const response = await admin().request(CREATE, { input });
          expect(response.errors?.[0]?.extensions?.code, response.raw).toBe("BAD_USER_INPUT");
          expect(response.errors?.[0]?.message).toMatch(/^Variable "\$input" got an invalid value/);
          expect(response.raw).not.toContain(echoed);
        }
      });
    });
  }

  it("nothing was printed to stderr", () => {
    expect(stderr.written).toEqual([]);
  });
});

describe("malformed requests", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  const json = { "content-type": "application/json" };
  const cases: [string, string, RequestInit, number, string][] = [
    ["a persisted-query hash that does not match the query", "/graphql", { method: "POST", headers: json, body: JSON.stringify({ query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } }) }, 400, "BAD_REQUEST"],
    ["an unsupported persisted-query version", "/graphql", { method: "POST", headers: json, body: JSON.stringify({ query: "{ __typename }", extensions: { persistedQuery: { version: 2, sha256Hash: "abc" } } }) }, 400, "BAD_REQUEST"],
    ["an unknown persisted query", "/graphql", { method: "POST", headers: json, body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } }) }, 200, "PERSISTED_QUERY_NOT_FOUND"],
    ["a query that is not a string", "/graphql", { method: "POST", headers: json, body: '{"query": 5}' }, 400, "BAD_REQUEST"],
    ["variables as a string", "/graphql", { method: "POST", headers: json, body: '{"query": "{ __typename }", "variables": "x"}' }, 400, "BAD_REQUEST"],
    ["two operations and no operationName", "/graphql", { method: "POST", headers: json, body: '{"query": "query A { __typename } query B { __typename }"}' }, 400, "OPERATION_RESOLUTION_FAILURE"],
    ["a body in UTF-32 (JSON is UTF-8)", "/graphql", { method: "POST", headers: { "content-type": "application/json; charset=utf-32" }, body: "{}" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["a body in Latin-1", "/graphql", { method: "POST", headers: { "content-type": "application/json; charset=iso-8859-1" }, body: '{"query": "{ __typename }"}' }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["a body with a content-encoding the server does not decode", "/graphql", { method: "POST", headers: { ...json, "content-encoding": "compress" }, body: "x" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["a gzip body that is not gzip", "/graphql", { method: "POST", headers: { ...json, "content-encoding": "gzip" }, body: "not gzip" }, 400, "BAD_REQUEST"],
    ["PUT", "/graphql", { method: "PUT", headers: json, body: "{}" }, 405, "BAD_REQUEST"],
    ["a subscription over HTTP", "/graphql", { method: "POST", headers: json, body: JSON.stringify({ query: 'subscription { provisioningRunUpdated(id: "00000000-0000-0000-0000-000000000000") { id } }' }) }, 400, "BAD_REQUEST"],
  ];

  for (const [what, path, init, status, code] of cases) {
    it(`${what}: ${status} ${code}, not an internal error`, async () => {
      const response = await fetch(new URL(path, t.url), { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${t.adminToken}` } });
      const text = await response.text();
      expect(response.status, text).toBe(status);
      expect(JSON.parse(text).errors[0].extensions.code, text).toBe(code);
      expect(text).not.toMatch(/stacktrace|\bat \S+ \(|node_modules/);
    });
  }

  it("a body refused for its charset or encoding says what to send instead", async () => {
    const charset = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json; charset=iso-8859-1" }, body: '{"query": "{ __typename }"}' });
    expect((await charset.json()).errors[0].message).toBe('The request body\'s charset "iso-8859-1" is not supported: send JSON encoded as UTF-8.');
    const encoding = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "compress" }, body: "x" });
    expect((await encoding.json()).errors[0].message).toBe('The request body\'s content-encoding "compress" is not supported: send it uncompressed, or as gzip, deflate or br.');
    const utf8 = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json; charset=UTF-8" }, body: '{"query": "{ __typename }"}' });
    expect(await utf8.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("the request log records the real path", async () => {
    await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", "x-request-id": "real-path-check" }, body: '{"query": "{ __typename }"}' });
    const line = await vi.waitFor(() => JSON.parse(t.logs.find((entry) => entry.includes('"real-path-check"') && entry.includes('"msg":"request"'))!));
    expect(line).toMatchObject({ method: "POST", path: "/graphql", status: 200 });
  });

  it("a malformed path gets Express's plain 404, without a stack", async () => {
    for (const path of ["/%E0%A4%A", "/graphql%", "/nope"]) {
      const response = await fetch(new URL(path, t.url));
      expect(response.status).toBe(404);
      expect(await response.text()).not.toMatch(/\bat \S+ \(|node_modules|Error:/);
    }
  });

  it("none of them was logged as an unexpected error", () => {
    expect(t.logs.filter((line) => line.includes('"unexpected error"'))).toEqual([]);
  });
});

describe("an error thrown outside any resolver (a failing request hook)", () => {
  // The real server has no hook that fails on demand; this one has the same error formatter and
  // Apollo request guards, plus a plugin that throws while execution starts.
  const logs: string[] = [];
  let server: http.Server;
  let apollo: ApolloServer;
  let url: string;
  beforeAll(async () => {
    const logger = createLogger("info", { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream);
    const limits = queryLimits(DEFAULT_QUERY_LIMITS, true);
    const failing: ApolloServerPlugin = {
      async requestDidStart() {
        return {
          async executionDidStart() {
            throw new Error("hook failed: connection string postgresql://user:hunter2@db/x");
          },
        };
      },
    };
    apollo = new ApolloServer({
      schema: buildSchema("type Query { hello: String }"),
      formatError: createFormatError(logger, { debug: false, hideSuggestions: false }),
      includeStacktraceInErrorResponses: false,
      validationRules: limits.validationRules,
      plugins: [requestGuards(limits.maxTokens), failing],
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    await apollo.start();
    const app = express();
    app.use("/graphql", express.json(), expressMiddleware(apollo));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await apollo?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("is a 500 INTERNAL_SERVER_ERROR with a correlation id; the log line under that id has the original message and stack", async () => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ hello }" }) });
    const text = await response.text();
    expect(response.status).toBe(500);
    const [error] = JSON.parse(text).errors;
    expect(error.extensions.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.extensions.correlationId).toMatch(UUID);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("hook failed");
    const line = logLineWith(logs, error.extensions.correlationId);
    expect(line.err.message).toContain("hook failed");
    expect(line.err.stack).toContain("executionDidStart");
  });
});

describe("DEBUG_ERRORS=true", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ DEBUG_ERRORS: "true" });
  });
  afterAll(() => t?.close());

  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      const admin = () => transport.client(t, t.adminToken);
      it("adds the stack trace to the masked error (and still logs it under the correlation id)", async () => {
        await sql(t.databaseUrl, `ALTER TABLE "Project" RENAME TO "Project_gone"`);
        try {
          const response = await admin().request(PROJECTS);
          const [error] = response.errors!;
          expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
          const stacktrace: string[] = error.extensions?.stacktrace;
          expect(Array.isArray(stacktrace)).toBe(true);
          expect(stacktrace.join("\n")).toMatch(/does not exist/);
          expect(stacktrace.join("\n")).toMatch(/\bat /);
          logLineWith(t.logs, error.extensions?.correlationId);
        } finally {
          await sql(t.databaseUrl, `ALTER TABLE "Project_gone" RENAME TO "Project"`);
        }
      });

      it("expected errors show their stack too", async () => {
        const response = await admin().request('{ awsIamPolicy(bucketName: "NO") { json } }');
        expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
        expect(response.errors?.[0]?.extensions?.stacktrace?.length).toBeGreaterThan(0);
      });
    });
  }
});

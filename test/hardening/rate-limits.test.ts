// Rate limits through the real server, over HTTP and WebSocket: failed authentication per client
// address (a valid token is never refused by it), and mutations that call AWS per token and per
// address; both answer RATE_LIMITED with a retry hint (extensions.retryAfterSeconds; over HTTP
// also 429 and Retry-After; a WebSocket refused at connection_init is closed with 4403 and the
// hint in the reason). TRUST_PROXY decides whether the address comes from X-Forwarded-For.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { TRANSPORTS, watchStderr, type Transport } from "./transports.js";

const ME = "{ me { name } }";
const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) { regions { code } userErrors { code field } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`;
const FORBIDDEN = 4403;

/** POSTs a query and returns status, headers and body. */
async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: object) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: any }[] } };
}

/**
 * `{ me { name } }` with a token from an address, as the caller sees the answer: the name, or
 * how it was refused. Over HTTP the status and Retry-After header are checked here too; over
 * WebSocket a refused token closes the connection at connection_init with 4403.
 */
async function whoAmI(t: TestServer, transport: Transport, token: string | undefined, headers: Record<string, string> = {}) {
  if (transport.name === "HTTP") {
    const { status, headers: responseHeaders, body } = await post(t.url, ME, { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) });
    if (body.data?.me) return { name: body.data.me.name as string };
    const [error] = body.errors!;
    const code: string = error.extensions?.code;
    expect(status).toBe(code === "RATE_LIMITED" ? 429 : 401);
    expect(error.extensions?.http).toBeUndefined(); // the server's business, not the client's
    if (code !== "RATE_LIMITED") return { refused: code };
    const retryAfterSeconds: number = error.extensions?.retryAfterSeconds;
    expect(responseHeaders.get("retry-after")).toBe(String(retryAfterSeconds));
    expect(error.message).toContain(`retry in ${retryAfterSeconds} s`);
    return { refused: code, retryAfterSeconds };
  }
  const outcome = await transport.client(t, token, headers).request(ME);
  if (outcome.data?.me) return { name: outcome.data.me.name as string };
  if (outcome.closed) {
    expect(outcome.closed.code, outcome.raw).toBe(FORBIDDEN);
    const limited = /^Too many failed authentication attempts; retry in (\d+) s\.$/.exec(outcome.closed.reason);
    if (limited) return { refused: "RATE_LIMITED", retryAfterSeconds: Number(limited[1]) };
    expect(outcome.closed.reason).toMatch(/^Forbidden: (the API token is unknown, revoked or expired|malformed Authorization)/);
    return { refused: "UNAUTHENTICATED" };
  }
  return { refused: outcome.errors?.[0]?.extensions?.code as string };
}

describe("failed authentication (RATE_LIMIT_AUTH_FAILURES=3; TRUST_PROXY=loopback, so X-Forwarded-For names the client)", () => {
  let t: TestServer;
  const stderr = watchStderr();
  beforeAll(async () => {
    t = await startTestServer({ RATE_LIMIT_AUTH_FAILURES: "3", TRUST_PROXY: "loopback" });
  });
  afterAll(async () => {
    stderr.restore();
    await t?.close();
  });

  TRANSPORTS.forEach((transport, index) => {
    describe(`over ${transport.name}`, () => {
      const from = (address: string) => ({ "x-forwarded-for": address });
      const guesser = from(`203.0.113.${10 + index}`);

      it("the 4th bad token from one address is RATE_LIMITED with a retry hint; a valid token from there still works", async () => {
        for (const token of ["bh_wrong-1", "bh_wrong-2", "bh_wrong-3"]) {
          expect(await whoAmI(t, transport, token, guesser)).toEqual({ refused: "UNAUTHENTICATED" });
        }
        const limited = await whoAmI(t, transport, "bh_wrong-4", guesser);
        expect(limited.refused).toBe("RATE_LIMITED");
        expect(Number.isInteger(limited.retryAfterSeconds)).toBe(true);
        expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);

        // The limiter counts failures only: a valid token is verified first and let in.
        expect(await whoAmI(t, transport, t.adminToken, guesser)).toEqual({ name: "admin" });
        // …and letting it in does not lift the limit for bad tokens.
        expect((await whoAmI(t, transport, "bh_wrong-5", guesser)).refused).toBe("RATE_LIMITED");
      });

      it("other addresses behind the same proxy are not limited by that one's failures", async () => {
        const neighbour = from(`198.51.100.${10 + index}`);
        expect(await whoAmI(t, transport, "bh_wrong-neighbour", neighbour)).toEqual({ refused: "UNAUTHENTICATED" });
        expect(await whoAmI(t, transport, t.adminToken, neighbour)).toEqual({ name: "admin" });
      });

      it("requests without credentials are not authentication attempts: they get their usual answer", async () => {
        expect(await whoAmI(t, transport, undefined, guesser)).toEqual({ refused: "UNAUTHENTICATED" });
        expect((await transport.client(t, undefined, guesser).ok("{ __typename }")).__typename).toBe("Query");
      });
    });
  });

  it("the refusals are logged without the token", async () => {
    await post(t.url, ME, { authorization: "Bearer bh_secret-guess-0123456789" });
    expect(t.logs.join("\n")).not.toContain("bh_secret-guess-0123456789");
    expect(t.logs.join("\n")).not.toContain("bh_wrong-");
    expect(t.logs.join("\n")).not.toContain(t.adminToken);
  });

  it("nothing was printed to stderr", () => {
    expect(stderr.written).toEqual([]);
  });
});

describe("TRUST_PROXY unset (the default): X-Forwarded-For is not believed", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ RATE_LIMIT_AUTH_FAILURES: "3" });
  });
  afterAll(() => t?.close());

  it("failures claiming different forwarded addresses all count against the connection's address, over HTTP and WebSocket alike", async () => {
    const [http, ws] = TRANSPORTS;
    expect(await whoAmI(t, http, "bh_wrong-1", { "x-forwarded-for": "203.0.113.1" })).toEqual({ refused: "UNAUTHENTICATED" });
    expect(await whoAmI(t, ws, "bh_wrong-2", { "x-forwarded-for": "203.0.113.2" })).toEqual({ refused: "UNAUTHENTICATED" });
    expect(await whoAmI(t, http, "bh_wrong-3", { "x-forwarded-for": "203.0.113.3" })).toEqual({ refused: "UNAUTHENTICATED" });
    expect((await whoAmI(t, ws, "bh_wrong-4", { "x-forwarded-for": "203.0.113.4" })).refused).toBe("RATE_LIMITED");
    expect((await whoAmI(t, http, "bh_wrong-5", { "x-forwarded-for": "203.0.113.5" })).refused).toBe("RATE_LIMITED");
    expect(await whoAmI(t, ws, t.adminToken, { "x-forwarded-for": "203.0.113.6" })).toEqual({ name: "admin" });
  });
});

describe("TRUST_PROXY values", () => {
  it("off, a hop count, or a list of proxy addresses and CIDRs; anything else stops the server naming the variable", () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(0);
    expect(loadConfig({ TRUST_PROXY: "false" }).TRUST_PROXY).toBe(0);
    expect(loadConfig({ TRUST_PROXY: "2" }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8,192.168.1.7" }).TRUST_PROXY).toEqual(["loopback", "10.0.0.0/8", "192.168.1.7"]);
    for (const bad of ["true", "proxy.example.com", "10.0.0.0/99", "10.0.0.1,", "1000"]) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });
});

describe("AWS-calling mutations (RATE_LIMIT_AWS_MUTATIONS=2)", () => {
  for (const transport of TRANSPORTS) {
    describe(`over ${transport.name}`, () => {
      let t: TestServer;
      beforeAll(async () => {
        // Discovery without credentials makes no AWS call; the endpoint is a closed port in case it did.
        t = await startTestServer({ RATE_LIMIT_AWS_MUTATIONS: "2", AWS_ENDPOINT_URL: "http://127.0.0.1:9" });
      });
      afterAll(() => t?.close());

      it("the 3rd discoverAwsBackend within a minute is RATE_LIMITED with retryAfterSeconds; other operations go on", async () => {
        const admin = transport.client(t, t.adminToken);
        for (let i = 0; i < 2; i++) {
          const { discoverAwsBackend } = await admin.ok(DISCOVER, { input: { region: "eu-west-1" } });
          expect(discoverAwsBackend.regions.length).toBeGreaterThan(10);
        }
        const third = await admin.request(DISCOVER, { input: { region: "eu-west-1" } });
        if (transport.name === "HTTP") expect(third.status).toBe(429);
        expect(third.data).toBeNull();
        const [error] = third.errors!;
        expect(error.extensions?.code).toBe("RATE_LIMITED");
        expect(error.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(error.extensions?.retryAfterSeconds).toBeLessThanOrEqual(60);
        expect(error.extensions?.http).toBeUndefined();
        expect(error.message).toMatch(/AWS-calling mutations; retry in \d+ s/);

        // Reads and mutations that do not call AWS are not limited by it.
        expect((await admin.ok(ME)).me.name).toBe("admin");
        expect((await admin.ok(`mutation { createProject(input: { name: "not-limited" }) { project { id } } }`)).createProject.project.id).toBeTruthy();
      });

      it("another token from the same address is limited too (the address counts as well as the token)", async () => {
        const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "second" } });
        const outcome = await transport.client(t, created.createApiToken.token).request(DISCOVER, { input: {} });
        expect(outcome.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      });

      it("an unauthenticated discovery is refused as UNAUTHENTICATED, not counted", async () => {
        const outcome = await transport.client(t).request(DISCOVER, { input: {} });
        expect(outcome.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      });
    });
  }
});

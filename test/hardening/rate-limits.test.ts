// Rate limits through the real HTTP server: failed authentication per client address, and
// mutations that call AWS per token and per address; both answer RATE_LIMITED with a retry hint
// (extensions.retryAfterSeconds, HTTP 429 and Retry-After).
import { describe, expect, it } from "vitest";
import { useServer } from "../support/fixtures.js";

const ME = "{ me { name } }";
const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) { regions { code } userErrors { code field } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`;

/** POSTs a query and returns status, headers and body. */
async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: object) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: any }[] } };
}

describe("failed authentication (RATE_LIMIT_AUTH_FAILURES=3)", () => {
  const t = useServer({ RATE_LIMIT_AUTH_FAILURES: "3" });

  it("the 4th bad token from one address gets 429 RATE_LIMITED with retryAfterSeconds and Retry-After; so does a good token from there", async () => {
    // A good token before any failure works, and does not count.
    expect((await post(t.url, ME, { authorization: `Bearer ${t.adminToken}` })).body.data.me.name).toBe("admin");

    const bad = ["bh_wrong-1", "bh_wrong-2", "Basic not-a-bearer"];
    for (const authorization of bad) {
      const { status, body } = await post(t.url, ME, { authorization: authorization.startsWith("Basic") ? authorization : `Bearer ${authorization}` });
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }

    const limited = await post(t.url, ME, { authorization: "Bearer bh_wrong-4" });
    expect(limited.status).toBe(429);
    const [error] = limited.body.errors!;
    expect(error.extensions?.code).toBe("RATE_LIMITED");
    const retryAfterSeconds: number = error.extensions?.retryAfterSeconds;
    expect(Number.isInteger(retryAfterSeconds)).toBe(true);
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(limited.headers.get("retry-after")).toBe(String(retryAfterSeconds));
    expect(error.message).toContain(`${retryAfterSeconds} s`);
    // The http extension is the server's business, not the client's.
    expect(error.extensions?.http).toBeUndefined();

    // The address is blocked as a whole: guessing must not be able to go on with a real token.
    const good = await post(t.url, ME, { authorization: `Bearer ${t.adminToken}` });
    expect(good.status).toBe(429);
    expect(good.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(good.body.data).toBeUndefined();

    // Requests without credentials are not authentication attempts: they get their usual answer.
    const anonymous = await post(t.url, ME);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await post(t.url, "{ __typename }")).body.data).toEqual({ __typename: "Query" });
  });

  it("the refusal is logged without the token", async () => {
    await post(t.url, ME, { authorization: "Bearer bh_secret-guess-0123456789" });
    expect(t.logs.join("\n")).not.toContain("bh_secret-guess-0123456789");
    expect(t.logs.join("\n")).not.toContain(t.adminToken);
  });
});

describe("AWS-calling mutations (RATE_LIMIT_AWS_MUTATIONS=2)", () => {
  // Discovery without credentials makes no AWS call; the endpoint is a closed port in case it did.
  const t = useServer({ RATE_LIMIT_AWS_MUTATIONS: "2", AWS_ENDPOINT_URL: "http://127.0.0.1:9" });

  it("the 3rd discoverAwsBackend within a minute is RATE_LIMITED (HTTP 429, Retry-After); other operations go on", async () => {
    const auth = { authorization: `Bearer ${t.adminToken}` };
    for (let i = 0; i < 2; i++) {
      const { status, body } = await post(t.url, DISCOVER, auth, { input: { region: "eu-west-1" } });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.discoverAwsBackend.regions.length).toBeGreaterThan(10);
    }
    const third = await post(t.url, DISCOVER, auth, { input: { region: "eu-west-1" } });
    expect(third.status).toBe(429);
    expect(third.body.data).toBeNull();
    const [error] = third.body.errors!;
    expect(error.extensions?.code).toBe("RATE_LIMITED");
    expect(error.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.extensions?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(third.headers.get("retry-after")).toBe(String(error.extensions?.retryAfterSeconds));
    expect(error.message).toMatch(/AWS-calling mutations/);

    // Reads and mutations that do not call AWS are not limited by it.
    expect((await t.admin.ok(ME)).me.name).toBe("admin");
    expect((await t.admin.ok(`mutation { createProject(input: { name: "not-limited" }) { project { id } } }`)).createProject.project.id).toBeTruthy();
  });

  it("another token from the same address is limited too (the address counts as well as the token)", async () => {
    const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "second" } });
    const { status, body } = await post(t.url, DISCOVER, { authorization: `Bearer ${created.createApiToken.token}` }, { input: {} });
    expect(status).toBe(429);
    expect(body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  it("an unauthenticated discovery is refused as UNAUTHENTICATED, not counted", async () => {
    const { status, body } = await post(t.url, DISCOVER, {}, { input: {} });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

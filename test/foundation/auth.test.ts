import pg from "pg";
import { describe, expect, it } from "vitest";
import { useServer } from "../support/fixtures.js";

const ME = "{ me { id name globalRole } }";
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id prefix expiresAt } userErrors { code field message } } }`;

describe("authentication with API tokens", () => {
  const t = useServer();

  it("answers UNAUTHENTICATED without a token, with an unknown token and with a malformed header", async () => {
    expect(await t.client().errorCode(ME)).toBe("UNAUTHENTICATED");
    expect(await t.client("bh_not-a-real-token-000000000000000000000").errorCode(ME)).toBe("UNAUTHENTICATED");
    const malformed = await t.client().request(ME, {}, { authorization: "Basic abc" });
    expect(malformed.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("lets the bootstrap admin in and shows a new token exactly once, stored only as a hash", async () => {
    const me = await t.admin.ok(ME);
    expect(me.me).toMatchObject({ name: "admin", globalRole: "ADMIN" });

    const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "ci" } });
    const token: string = created.createApiToken.token;
    expect(token.length).toBeGreaterThanOrEqual(43);
    expect(token.startsWith(created.createApiToken.apiToken.prefix)).toBe(true);
    expect((await t.client(token).ok(ME)).me.name).toBe("admin");

    const tokens = await t.admin.ok("{ myApiTokens { id name prefix lastUsedAt } }");
    expect(JSON.stringify(tokens)).not.toContain(token);
    const db = new pg.Client({ connectionString: t.databaseUrl });
    await db.connect();
    const rows = await db.query(`SELECT * FROM "ApiToken"`);
    await db.end();
    expect(JSON.stringify(rows.rows)).not.toContain(token);
    expect(rows.rows.find((row) => row.id === created.createApiToken.apiToken.id)?.lastUsedAt).not.toBeNull();
  });

  it("refuses a revoked token", async () => {
    const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "short-lived" } });
    const token = created.createApiToken.token;
    const revoked = await t.client(token).ok(`mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { revokedAt } userErrors { code } } }`, {
      id: created.createApiToken.apiToken.id,
    });
    expect(revoked.revokeApiToken.apiToken.revokedAt).not.toBeNull();
    expect(await t.client(token).errorCode(ME)).toBe("UNAUTHENTICATED");
  });

  it("refuses an expired token", async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "expiring", expiresAt } });
    const token = created.createApiToken.token;
    expect((await t.client(token).ok(ME)).me.name).toBe("admin");
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect(await t.client(token).errorCode(ME)).toBe("UNAUTHENTICATED");
  });

  it("rejects an expiry in the past and an empty name with field errors", async () => {
    const past = await t.admin.ok(CREATE_TOKEN, { input: { name: "x", expiresAt: "2001-01-01T00:00:00Z" } });
    expect(past.createApiToken.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "expiresAt"] })]);
    const empty = await t.admin.ok(CREATE_TOKEN, { input: { name: "  " } });
    expect(empty.createApiToken.userErrors[0]).toMatchObject({ code: "INVALID_INPUT", field: ["input", "name"] });
  });

  it("lets only a global admin create users; the new user's token works once shown", async () => {
    const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id name globalRole } token userErrors { code field } } }`;
    const alice = await t.admin.ok(CREATE_USER, { input: { name: "alice" } });
    expect(alice.createUser.user).toMatchObject({ name: "alice", globalRole: "USER" });
    const aliceClient = t.client(alice.createUser.token);
    expect((await aliceClient.ok(ME)).me.name).toBe("alice");
    expect(await aliceClient.errorCode(CREATE_USER, { input: { name: "mallory" } })).toBe("FORBIDDEN");
    const duplicate = await t.admin.ok(CREATE_USER, { input: { name: "alice" } });
    expect(duplicate.createUser.userErrors).toEqual([{ code: "NAME_TAKEN", field: ["input", "name"] }]);
    // A user cannot revoke someone else's token: it is not found for them.
    const adminTokens = await t.admin.ok("{ myApiTokens { id } }");
    const foreign = await aliceClient.ok(`mutation($id: ID!) { revokeApiToken(id: $id) { userErrors { code } } }`, { id: adminTokens.myApiTokens[0].id });
    expect(foreign.revokeApiToken.userErrors[0].code).toBe("NOT_FOUND");
  });

  it("never logs the authorization header or a token", async () => {
    const created = await t.admin.ok(CREATE_TOKEN, { input: { name: "log-check" } });
    await t.client(created.createApiToken.token).ok(ME);
    const logs = t.logs.join("\n");
    expect(logs).not.toContain(t.adminToken);
    expect(logs).not.toContain(created.createApiToken.token);
    expect(logs).toContain('"msg":"request"');
  });
});

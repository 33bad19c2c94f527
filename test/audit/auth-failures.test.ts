// Refused authentications are counted per client address and window: one "auth.failure" row per
// address per window with a count, whichever door the requests used, so a flood of bad tokens
// cannot fill the table.
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AuthFailureWindows, OVERFLOW_ADDRESS } from "../../src/audit/auth-failures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { auditRows, CREATE_PROJECT, EVENTS } from "./support.js";

const ME = "{ me { id } }";
const BAD_TOKEN = "bh_not-a-real-token-000000000000000000000";

/**
 * Windows are whole clock minutes: a burst that must land in one window starts with at least 10 s
 * of the minute left (waiting for the next minute otherwise), so no boundary can split it.
 */
async function roomInWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

async function badWebSocket(url: string): Promise<unknown> {
  const client = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${BAD_TOKEN}` }, retryAttempts: 0, lazy: true });
  try {
    return await new Promise((resolve) => client.subscribe({ query: ME }, { next: () => undefined, error: resolve, complete: () => resolve(null) }));
  } finally {
    await client.dispose();
  }
}

describe("refused authentications through the server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ RATE_LIMIT_AUTH_FAILURES: "100" });
  });
  afterAll(() => t?.close());

  const authRows = async () => (await auditRows(t.databaseUrl)).filter((row) => row.operation === "auth.failure");

  it("writes one row per address and window, counting HTTP, WebSocket and anonymous mutations alike", async () => {
    await roomInWindow();
    for (let i = 0; i < 4; i++) expect(await t.client(BAD_TOKEN).errorCode(ME)).toBe("UNAUTHENTICATED");
    expect((await t.client().request(ME, {}, { authorization: "Basic abc" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await t.client().errorCode(CREATE_PROJECT, { input: { name: "anonymous" } })).toBe("UNAUTHENTICATED");
    await badWebSocket(t.url);
    expect(await authRows(), "nothing is written per request").toEqual([]);

    await t.server.services.audit.flushAuthFailures(true);
    const [row, ...more] = await authRows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ outcome: "DENIED", codes: ["UNAUTHENTICATED"], count: 7, actorId: null, projectId: null, clientAddress: expect.stringMatching(/127\.0\.0\.1$/) });

    // The next window gets a row of its own.
    await roomInWindow();
    for (let i = 0; i < 2; i++) await t.client(BAD_TOKEN).errorCode(ME);
    await t.server.services.audit.flushAuthFailures(true);
    expect((await authRows()).map((r) => r.count)).toEqual([7, 2]);

    // Global admins read them like any event, with their count.
    const read = await t.admin.ok(EVENTS, { filter: { operation: "auth.failure" } });
    expect(read.auditEvents.edges.map((edge: any) => edge.node.count)).toEqual([2, 7]);
  });

  it("writes the window in progress when the server stops", async () => {
    await roomInWindow();
    await t.client(BAD_TOKEN).errorCode(ME);
    await t.server.close();
    expect((await authRows()).map((r) => r.count)).toEqual([7, 2, 1]);
  });
});

describe("an address refused for failing too often", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ RATE_LIMIT_AUTH_FAILURES: "3" });
  });
  afterAll(() => t?.close());

  it("still counts every attempt, with RATE_LIMITED among the codes", async () => {
    await roomInWindow();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) codes.push(await t.client(BAD_TOKEN).errorCode(ME));
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED"]);
    await t.server.services.audit.flushAuthFailures(true);
    const rows = (await auditRows(t.databaseUrl)).filter((row) => row.operation === "auth.failure");
    expect(rows).toEqual([expect.objectContaining({ count: 5, codes: ["RATE_LIMITED", "UNAUTHENTICATED"] })]);
  });
});

describe("AuthFailureWindows (fixed windows, bounded memory)", () => {
  it("closes a window when the clock passes its end, one row per address", () => {
    let now = 120_000;
    const windows = new AuthFailureWindows(60_000, () => now);
    windows.record("10.0.0.1", "UNAUTHENTICATED");
    windows.record("10.0.0.1", "UNAUTHENTICATED");
    windows.record("10.0.0.2", "UNAUTHENTICATED");
    now = 179_999;
    expect(windows.take()).toEqual([]);
    windows.record("10.0.0.1", "RATE_LIMITED");
    now = 180_000;
    windows.record("10.0.0.1", "UNAUTHENTICATED"); // the next window
    expect(windows.take()).toEqual([
      expect.objectContaining({ operation: "auth.failure", outcome: "DENIED", clientAddress: "10.0.0.1", count: 3, codes: ["RATE_LIMITED", "UNAUTHENTICATED"] }),
      expect.objectContaining({ clientAddress: "10.0.0.2", count: 1 }),
    ]);
    expect(windows.take(true)).toEqual([expect.objectContaining({ clientAddress: "10.0.0.1", count: 1 })]);
  });

  it("shares one row beyond 10,000 addresses in a window, and keeps unwritten rows for the next try", () => {
    const windows = new AuthFailureWindows(60_000, () => 0);
    for (let i = 0; i < 10_050; i++) windows.record(`2001:db8::${i.toString(16)}`, "UNAUTHENTICATED");
    const rows = windows.take(true);
    expect(rows).toHaveLength(10_001);
    expect(rows.find((row) => row.clientAddress === OVERFLOW_ADDRESS)?.count).toBe(50);
    windows.giveBack(rows.slice(0, 2));
    expect(windows.take()).toEqual(rows.slice(0, 2));
  });
});

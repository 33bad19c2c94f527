// PostgreSQL stopped and restarted under load, on a cluster of this test's own: /readyz turns 503,
// requests fail fast with SERVICE_UNAVAILABLE (never a 500, never a hang), the service recovers
// by itself once the database is back on the same port, and no acknowledged write is lost.
import { rm } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/logging/logger.js";
import { startTestServer, type TestServer } from "../support/server.js";

const CREATE = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name } userErrors { code } } }`;
const READ = "{ me { name } projects(first: 5) { edges { node { id name members { role } } } } }";
/** A request slower than this during the outage counts as a hang (the pool's connect timeout is 5 s). */
const MAX_OUTAGE_LATENCY_MS = 8_000;

interface Outcome {
  kind: "read" | "write";
  phase: Phase;
  status: number;
  ms: number;
  codes: string[];
  ok: boolean;
  /** For writes: the project name sent, and whether the server acknowledged it (returned the project). */
  name?: string;
  acknowledged?: boolean;
  networkError?: string;
}

/** When the request started and ended; "transition" when it started in one phase and ended in another. */
type Phase = "before" | "outage" | "after" | "transition";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe("database outage", () => {
  const dir = path.resolve(`.data/outage-${process.pid}`);
  const logger = createLogger("warn");
  let cluster: EmbeddedDatabase | undefined;
  let port: number;
  let t: TestServer;

  beforeAll(async () => {
    await rm(dir, { recursive: true, force: true });
    cluster = await startEmbeddedPostgres(dir, logger);
    port = Number(new URL(cluster.url).port);
    t = await startTestServer({ DATABASE_POOL_SIZE: "5" }, cluster.url);
  });
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const readyz = async () => (await fetch(new URL("/readyz", t.url), { signal: AbortSignal.timeout(10_000) })).status;

  it("fails fast with SERVICE_UNAVAILABLE while PostgreSQL is down, recovers without a restart, loses no acknowledged write", { timeout: 180_000 }, async () => {
    expect(await readyz()).toBe(200);
    let phase: Exclude<Phase, "transition"> = "before";
    let running = true;
    let sequence = 0;
    const outcomes: Outcome[] = [];

    async function one(kind: "read" | "write"): Promise<void> {
      const name = kind === "write" ? `load-${++sequence}` : undefined;
      const startedIn = phase;
      const started = Date.now();
      const at = (): Phase => (phase === startedIn ? startedIn : "transition");
      try {
        const response = kind === "write" ? await t.admin.request(CREATE, { input: { name } }) : await t.admin.request(READ);
        const codes = (response.errors ?? []).map((error) => String(error.extensions?.code));
        const acknowledged = kind === "write" ? Boolean(response.data?.createProject?.project?.id) : undefined;
        outcomes.push({ kind, phase: at(), status: response.status, ms: Date.now() - started, codes, ok: codes.length === 0 && response.status === 200, name, acknowledged });
      } catch (error) {
        outcomes.push({ kind, phase: at(), status: 0, ms: Date.now() - started, codes: [], ok: false, name, acknowledged: false, networkError: String(error) });
      }
    }

    // Four clients: two reading, two writing, each as fast as it is answered (with a short pause).
    const workers = [0, 1, 2, 3].map(async (i) => {
      while (running) {
        await one(i % 2 === 0 ? "read" : "write");
        await sleep(20);
      }
    });

    const count = (phase: Phase, kind: Outcome["kind"], ok?: boolean) =>
      outcomes.filter((outcome) => outcome.phase === phase && outcome.kind === kind && (ok === undefined || outcome.ok === ok)).length;
    let notReadyAfterMs: number, readyAfterMs: number, servingAfterMs: number;
    try {
      // Enough traffic before, during and after, however busy the machine is.
      await waitFor("reads and writes before the outage", async () => count("before", "read", true) >= 5 && count("before", "write", true) >= 5, 30_000);

      // ---- the outage ------------------------------------------------------------------------
      phase = "outage";
      await cluster!.stop();
      notReadyAfterMs = await waitFor("/readyz 503", async () => (await readyz()) === 503, 10_000);
      // Load keeps hitting the server while the database is away.
      await sleep(2_000);
      await waitFor("requests during the outage", async () => count("outage", "read") >= 4 && count("outage", "write") >= 4, 30_000);
      const duringOutage = await t.admin.request(READ);
      expect(duringOutage.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
      expect(duringOutage.status).toBe(503);
      expect(await readyz()).toBe(503);

      // ---- the database comes back on the same port ------------------------------------------
      cluster = await startEmbeddedPostgres(dir, logger, port);
      phase = "after";
      readyAfterMs = await waitFor("/readyz 200", async () => (await readyz()) === 200, 15_000);
      servingAfterMs = await waitFor("a successful read", async () => (await t.admin.request(READ)).status === 200, 15_000);
      await waitFor("reads and writes after the outage", async () => count("after", "read", true) >= 4 && count("after", "write", true) >= 4, 30_000);
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // ---- what the clients saw ----------------------------------------------------------------
    const summary = (which: Phase) => {
      const list = outcomes.filter((outcome) => outcome.phase === which);
      return { total: list.length, ok: list.filter((outcome) => outcome.ok).length, codes: [...new Set(list.flatMap((outcome) => outcome.codes))].sort() };
    };
    console.log(
      JSON.stringify({
        notReadyAfterMs,
        readyAfterMs,
        servingAfterMs,
        before: summary("before"),
        transition: summary("transition"),
        outage: summary("outage"),
        after: summary("after"),
      }),
    );

    expect(summary("before").total).toBeGreaterThan(5);
    expect(summary("before").ok).toBe(summary("before").total);

    const outage = outcomes.filter((outcome) => outcome.phase === "outage");
    expect(outage.length).toBeGreaterThan(5);
    expect(outage.every((outcome) => !outcome.ok)).toBe(true);
    // Requests caught by the stop or the restart obey the same rules as those during the outage.
    for (const outcome of [...outage, ...outcomes.filter((o) => o.phase === "transition")]) {
      // Never a 500, never an unexplained failure, never a dropped connection.
      expect(outcome.networkError).toBeUndefined();
      expect(outcome.codes).not.toContain("INTERNAL_SERVER_ERROR");
      expect(outcome.status).not.toBe(500);
      if (!outcome.ok) expect(outcome.codes.length, JSON.stringify(outcome)).toBeGreaterThan(0);
      for (const code of outcome.codes) expect(code).toBe("SERVICE_UNAVAILABLE");
      expect(outcome.ms, JSON.stringify(outcome)).toBeLessThan(MAX_OUTAGE_LATENCY_MS);
    }
    expect(outage.filter((outcome) => outcome.codes.includes("SERVICE_UNAVAILABLE")).length).toBeGreaterThan(3);

    // Once the database is back, everything succeeds again (same server process).
    const after = outcomes.filter((outcome) => outcome.phase === "after" && outcome.ms >= 0);
    const lastFew = after.slice(-6);
    expect(lastFew.length).toBeGreaterThan(3);
    expect(lastFew.every((outcome) => outcome.ok), JSON.stringify(lastFew)).toBe(true);
    expect(after.every((outcome) => !outcome.codes.includes("INTERNAL_SERVER_ERROR"))).toBe(true);

    // ---- no acknowledged write is lost --------------------------------------------------------
    const acknowledged = outcomes.filter((outcome) => outcome.kind === "write" && outcome.acknowledged).map((outcome) => outcome.name!);
    expect(acknowledged.length).toBeGreaterThan(5);
    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    const stored = new Set((await db.query<{ name: string }>(`SELECT name FROM "Project"`)).rows.map((row) => row.name));
    await db.end();
    expect(acknowledged.filter((name) => !stored.has(name))).toEqual([]);
    // Every project has its ADMIN member: no write was half-applied.
    const db2 = new pg.Client({ connectionString: cluster.url });
    await db2.connect();
    const orphans = await db2.query(`SELECT p.name FROM "Project" p WHERE NOT EXISTS (SELECT 1 FROM "ProjectMember" m WHERE m."projectId" = p.id)`);
    await db2.end();
    expect(orphans.rows).toEqual([]);
  });

  it("with the database down, what needs it answers SERVICE_UNAVAILABLE (503) and the rest keeps working", async () => {
    await cluster!.stop();
    try {
      const authenticated = await t.admin.request("{ me { name } }");
      expect(authenticated.status).toBe(503);
      expect(authenticated.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
      // What needs no database still works.
      const anonymous = await t.client().request("{ __typename }");
      expect(anonymous.status).toBe(200);
      expect(anonymous.data).toEqual({ __typename: "Query" });
      const unauthenticated = await t.client().request("{ me { name } }");
      expect(unauthenticated.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(await readyz()).toBe(503);
      const health = await fetch(new URL("/healthz", t.url));
      expect(health.status).toBe(200);
    } finally {
      cluster = await startEmbeddedPostgres(dir, logger, port);
    }
    await waitFor("/readyz 200", async () => (await readyz()) === 200, 15_000);
    expect((await t.admin.ok("{ me { name } }")).me.name).toBe("admin");
  });
});

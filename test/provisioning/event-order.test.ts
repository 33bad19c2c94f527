// Live updates travel between processes as PostgreSQL NOTIFYs (PgEventTarget). Each NOTIFY is a
// transaction of its own on a pooled connection; sent concurrently they committed, and so arrived,
// out of order (about one in four of 300 events dispatched back to back). They are now sent one
// after the other, so a listener sees a process's events in the order they were dispatched.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PgEventTarget } from "../../src/events/pg-event-target.js";
import { createLogger } from "../../src/logging/logger.js";
import { createTestDatabase } from "../support/database.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 10 });
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

it("delivers one process's events in the order they were dispatched, to every process", async () => {
  const sender = new PgEventTarget(pool, database.url, createLogger("silent"));
  const other = new PgEventTarget(pool, database.url, createLogger("silent"));
  await sender.start();
  await other.start();
  const seen: Record<string, number[]> = { sender: [], other: [] };
  sender.addEventListener("RUN_UPDATED:x", (event) => seen.sender.push((event as CustomEvent).detail));
  other.addEventListener("RUN_UPDATED:x", (event) => seen.other.push((event as CustomEvent).detail));

  const count = 300;
  for (let i = 0; i < count; i++) {
    sender.dispatchEvent(new CustomEvent("RUN_UPDATED:x", { detail: i }));
    // Other queries in between, as the run executor makes: the pool's connections get shuffled.
    if (i % 3 === 0) await pool.query("SELECT 1");
  }
  await sender.close(); // waits for what was dispatched
  for (let i = 0; i < 100 && (seen.sender.length < count || seen.other.length < count); i++) await new Promise((r) => setTimeout(r, 50));
  await other.close();

  const inOrder = Array.from({ length: count }, (_, i) => i);
  expect(seen.other).toEqual(inOrder);
  expect(seen.sender.length).toBeGreaterThan(0);
  expect(seen.sender).toEqual(inOrder.slice(0, seen.sender.length));
});

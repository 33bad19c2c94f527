// A database restart must not crash the server. pg reports a connection lost while a client is
// checked out from the pool, between two statements (inside a transaction), as an 'error' event on
// that client, and pg-pool only listens for it while the client is idle. Found by the database
// outage test, which failed now and then with an uncaught "Connection terminated unexpectedly".
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/db/availability.js";
import { openDatabase, type Database } from "../../src/db/prisma.js";
import { createTestDatabase } from "../support/database.js";

describe("a connection lost while checked out from the pool", () => {
  let dropDatabase: () => Promise<void>;
  let url: string;
  let database: Database;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    const created = await createTestDatabase();
    dropDatabase = created.drop;
    url = created.url;
    database = openDatabase(url, 2);
    process.on("uncaughtException", onUncaught);
  });

  afterAll(async () => {
    process.off("uncaughtException", onUncaught);
    await database?.close();
    await dropDatabase?.();
  });

  it("fails the client's next statement as the database being unavailable, crashes nothing, and the pool recovers", async () => {
    const client = await database.pool.connect();
    await client.query("BEGIN");
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    // The server side of this connection goes away while the client sits between two statements.
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    await killer.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
    await killer.end();
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(uncaught).toEqual([]);
    const next = await client.query("SELECT 1").then(
      () => null,
      (error: unknown) => error,
    );
    expect(next).not.toBeNull();
    expect(isDatabaseUnavailable(next)).toBe(true);
    client.release(next as Error);
    // The pool hands out working connections again.
    expect((await database.pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    expect(uncaught).toEqual([]);
  });
});

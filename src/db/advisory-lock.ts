import { createHash } from "node:crypto";
import pg from "pg";

/** A 64-bit advisory lock key derived from a name (e.g. a run id): the same name, the same key on every process. */
export const advisoryLockKey = (name: string): bigint => createHash("sha256").update(name).digest().readBigInt64BE(0);

/** Runs `work` while holding a session-level PostgreSQL advisory lock on its own connection. */
export async function withAdvisoryLock<T>(databaseUrl: string, key: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [key]);
    return await work(client);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [key]).catch(() => undefined);
    await client.end();
  }
}

import pg from "pg";

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

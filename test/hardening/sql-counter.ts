// Counts the SQL statements a server's pool sends, for N+1 checks (tests and `npm run bench`).
// Every statement of the pool goes through a checked-out client's `query` (pool.query checks one
// out too; Prisma's driver adapter uses pool.query, transactions a checked-out client), so
// wrapping each client as it is acquired sees them all exactly once. pg-boss and the LISTEN
// connection have connections of their own and are not counted.
import type pg from "pg";

const WRAPPED = Symbol("sql-counter");

export interface SqlStatement {
  sql: string;
  /** Rows the statement returned (set when its result arrives). */
  rows?: number;
}

export interface SqlCounter {
  /** Runs `action` and returns the statements (SQL text) it caused, and each one's row count. */
  count<T>(action: () => Promise<T>): Promise<{ result: T; statements: string[]; details: SqlStatement[] }>;
  stop(): void;
}

export function countSql(pool: pg.Pool): SqlCounter {
  const statements: SqlStatement[] = [];
  let recording = false;
  let active = true;
  const wrap = (client: pg.PoolClient) => {
    const target = client as pg.PoolClient & { [WRAPPED]?: true };
    if (target[WRAPPED]) return;
    target[WRAPPED] = true;
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (!recording || !active) return original(...args);
      const first = args[0] as string | { text?: string };
      const statement: SqlStatement = { sql: typeof first === "string" ? first : (first?.text ?? String(first)) };
      statements.push(statement);
      const rowsOf = (value: { rowCount?: number | null; rows?: unknown[] } | undefined) => (statement.rows = value?.rows?.length ?? value?.rowCount ?? 0);
      // pool.query passes a callback; Prisma's transactions use the promise form.
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (error: unknown, value: { rows?: unknown[] }) => {
          if (!error) rowsOf(value);
          return (callback as (...a: unknown[]) => unknown)(error, value);
        };
        return original(...args);
      }
      const result = original(...args);
      if (result instanceof Promise) result.then(rowsOf, () => undefined);
      return result;
    };
  };
  pool.on("acquire", wrap);
  return {
    async count(action) {
      statements.length = 0;
      recording = true;
      try {
        const result = await action();
        return { result, statements: statements.map((statement) => statement.sql), details: [...statements] };
      } finally {
        recording = false;
      }
    },
    stop() {
      active = false;
      pool.removeListener("acquire", wrap);
    },
  };
}

/** SQL that seeds `count` projects, each with one member (the user), one backend and one run with one step. */
export function seedProjectsSql(count: number, userId: string, prefix: string): { text: string; values: unknown[] } {
  return {
    text: `
      WITH p AS (
        INSERT INTO "Project" (id, name, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), $2 || '-' || n, now() + n * interval '1 millisecond', now() FROM generate_series(1, $1::int) AS n
        RETURNING id, name
      ), m AS (
        INSERT INTO "ProjectMember" ("projectId", "userId", role) SELECT id, $3::uuid, 'ADMIN' FROM p
      ), b AS (
        INSERT INTO "Backend" (id, "projectId", name, "awsRegion", "awsBucket", "awsCredentialsMode", "updatedAt")
        SELECT gen_random_uuid(), id, 'aws-eu-west-1', 'eu-west-1', 'bucket-' || name, 'DEFAULT', now() FROM p
        RETURNING id
      ), r AS (
        INSERT INTO "ProvisioningRun" (id, "backendId", kind, status) SELECT gen_random_uuid(), id, 'PROVISION', 'SUCCEEDED' FROM b
        RETURNING id
      )
      INSERT INTO "ProvisioningStep" (id, "runId", position, name, status) SELECT gen_random_uuid(), id, 0, 'iam-policy', 'DONE' FROM r`,
    values: [count, prefix, userId],
  };
}

export const N_PLUS_ONE_QUERY =
  "{ projects(first: 100) { edges { node { members { user { name } } backends { edges { node { lastRun { status } } } } } } } }";

import { createHash } from "node:crypto";
import pg from "pg";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** A 64-bit advisory lock key derived from a name (e.g. a run id): the same name, the same key on every process. */
export const advisoryLockKey = (name: string): bigint => createHash("sha256").update(name).digest().readBigInt64BE(0);

/** Runs `work` while holding a session-level PostgreSQL advisory lock on its own connection. */
export async function withAdvisoryLock<T>(databaseUrl: string, key: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection lost between statements fails the next one; unheard, the event would crash the process.
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [key]);
    return await work(client);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [key]).catch(() => undefined);
    await client.end();
  }
}

export type Transaction = Prisma.TransactionClient;

/**
 * The name of the lock that serialises changes of one thing, e.g. lockName("backend", id). The kind
 * keeps different things apart: a backend and a project never share a lock.
 */
export const lockName = (kind: string, id: string): string => `${kind}:${id}`;

/**
 * Waiting for a connection and for the locks counts against these bounds. Work under a lock is a
 * few statements (never an AWS call), so a request only waits this long when something is wrong.
 */
const TRANSACTION_BOUNDS = { maxWait: 15_000, timeout: 30_000 };

/**
 * Runs `work` in one transaction that holds the named transaction-level advisory locks
 * (pg_advisory_xact_lock): whoever holds a name runs alone, on every replica, and the lock ends
 * with the transaction (commit, rollback, or a lost connection). Several names are taken in a
 * fixed order, so two callers locking the same names never deadlock. Never call AWS inside
 * `work`: the locks and a pooled connection are held until it returns.
 */
export async function withLocks<T>(prisma: PrismaClient, names: string | readonly string[], work: (tx: Transaction) => Promise<T>): Promise<T> {
  const keys = [...new Set((typeof names === "string" ? [names] : names).map(advisoryLockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return prisma.$transaction(async (tx) => {
    for (const key of keys) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${key.toString()}::bigint)`;
    return work(tx);
  }, TRANSACTION_BOUNDS);
}

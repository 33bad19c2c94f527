// Reads and writes of the audit tables. Appends take a transaction-scoped advisory lock, so every
// process and connection appends one after another: two writers can never both follow the same
// row (the chain cannot fork), and positions have no gaps. Writes are plain SQL on the shared pool
// (one round trip per statement: every mutation pays for them); reads go through Prisma.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Database } from "../db/prisma.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { AuditOutcome } from "../generated/prisma/enums.js";
import { chainHash, ChainVerifier, GENESIS, type BrokenLink, type ChainStart, type StoredRow } from "./chain.js";

/** Arbitrary constant: the advisory lock that serialises appends (migrations use 72_707_369, the job queue 72_707_371). */
const CHAIN_LOCK_KEY = 72_707_373;
const VERIFY_BATCH = 1_000;

/** One event to append. Only ids, names, codes and counts: never an input value. */
export interface AuditRecord {
  actorId?: string | null;
  tokenPrefix?: string | null;
  clientAddress?: string | null;
  projectId?: string | null;
  operation: string;
  targetIds?: string[];
  outcome: AuditOutcome;
  codes?: string[];
  requestId?: string | null;
  count?: number;
}

/** A mutation about to run (see AuditPending in prisma/schema.prisma). */
export type PendingRecord = Omit<AuditRecord, "outcome" | "codes" | "count">;

export interface ChainReport {
  intact: boolean;
  checkedEvents: number;
  /** The newest event's position and hash (or the anchor's, or genesis, when there is none). */
  head: ChainStart;
  /** Where verification started: the newest anchor left by pruning, or genesis. */
  start: ChainStart;
  broken?: BrokenLink;
}

/**
 * The project that ids from a mutation's arguments belong to: a project itself, or a backend,
 * instance or provisioning run of one. `ids` is the SQL parameter holding them (a uuid[]).
 */
const projectOfIds = (ids: string) => `
  SELECT id FROM "Project" WHERE id = ANY(${ids})
  UNION ALL SELECT "projectId" FROM "Backend" WHERE id = ANY(${ids})
  UNION ALL SELECT b."projectId" FROM "Instance" i JOIN "Backend" b ON b.id = i."backendId" WHERE i.id = ANY(${ids})
  UNION ALL SELECT b."projectId" FROM "ProvisioningRun" r JOIN "Backend" b ON b.id = r."backendId" WHERE r.id = ANY(${ids})
  LIMIT 1`;

const PENDING_COLUMNS = `id, "startedAt", "actorId", "tokenPrefix", "clientAddress", "projectId", operation, "targetIds", "requestId"`;
const EVENT_COLUMNS = `id, seq, at, "actorId", "tokenPrefix", "clientAddress", "projectId", operation, "targetIds", outcome, codes, "requestId", count, "prevHash", hash`;
/** `at` as UTC milliseconds: the column is a timestamp without time zone holding UTC (Prisma's convention). */
const AT_MS = `(extract(epoch FROM at) * 1000)::float8`;

export class AuditStore {
  constructor(private readonly database: Pick<Database, "pool" | "prisma">) {}

  append(...records: AuditRecord[]): Promise<void> {
    return this.transaction((client) => appendIn(client, records));
  }

  /**
   * Writes the intent row of a mutation, with its project: `projectId` when the arguments name
   * one, else the project of the ids it names (looked up now: after deleteProject or deleteBackend
   * it would be gone). One statement. Returns the row's id and project.
   */
  async begin(record: PendingRecord): Promise<{ id: string; projectId: string | null }> {
    const id = randomUUID();
    const { rows } = await this.database.pool.query<{ projectId: string | null }>(
      `INSERT INTO "AuditPending" (${PENDING_COLUMNS})
       SELECT $1, $2, $3, $4, $5, COALESCE($6::uuid, (${projectOfIds("$10::uuid[]")})), $7, $8::jsonb, $9
       RETURNING "projectId"::text AS "projectId"`,
      [id, iso(new Date()), record.actorId ?? null, record.tokenPrefix ?? null, record.clientAddress ?? null, record.projectId ?? null, record.operation, json(record.targetIds), record.requestId ?? null, record.targetIds ?? []],
    );
    return { id, projectId: rows[0]?.projectId ?? null };
  }

  /** Appends the outcome and removes the intent row, together. */
  complete(pendingId: string, record: AuditRecord): Promise<void> {
    return this.transaction(async (client) => {
      await client.query(`DELETE FROM "AuditPending" WHERE id = $1`, [pendingId]);
      await appendIn(client, [record]);
    });
  }

  /** Records intent rows older than `before` as FAILED with OUTCOME_UNKNOWN; returns how many. */
  async recordAbandoned(before: Date): Promise<number> {
    let recorded = 0;
    for (;;) {
      const done = await this.transaction(async (client) => {
        // Taken and deleted at once: of two processes sweeping together, each row goes to one.
        const { rows } = await client.query<{ actorId: string | null; tokenPrefix: string | null; clientAddress: string | null; projectId: string | null; operation: string; targetIds: string[]; requestId: string | null }>(
          `DELETE FROM "AuditPending" WHERE id IN (SELECT id FROM "AuditPending" WHERE "startedAt" < $1 ORDER BY "startedAt" LIMIT 100 FOR UPDATE SKIP LOCKED)
           RETURNING "actorId", "tokenPrefix", "clientAddress", "projectId", operation, "targetIds", "requestId"`,
          [iso(before)],
        );
        await appendIn(client, rows.map((row) => ({ ...row, outcome: "FAILED" as const, codes: ["OUTCOME_UNKNOWN"] })));
        return rows.length;
      });
      recorded += done;
      if (done < 100) return recorded;
    }
  }

  /**
   * Deletes the events written before `cutoff`, after recording an anchor (the last deleted
   * event's position and hash) from which the kept events still verify; then appends an
   * "audit.prune" event saying how many went. Returns that number.
   */
  prune(cutoff: Date): Promise<number> {
    return this.transaction(async (client) => {
      await lockChain(client);
      // `at` never decreases along the chain (see appendIn), so this is a prefix of it. (The
      // qualified name sorts by the bigint column, not by its text alias.)
      const { rows } = await client.query<{ seq: string; hash: string }>(
        `SELECT seq::text AS seq, hash FROM "AuditEvent" WHERE at < $1 ORDER BY "AuditEvent".seq DESC LIMIT 1`,
        [iso(cutoff)],
      );
      const last = rows[0];
      if (!last) return 0;
      const counted = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE seq <= $1`, [last.seq]);
      const deletedEvents = counted.rows[0]!.n;
      await client.query(`INSERT INTO "AuditAnchor" (id, seq, hash, "deletedEvents") VALUES ($1, $2, $3, $4)`, [randomUUID(), last.seq, last.hash, deletedEvents]);
      await client.query(`DELETE FROM "AuditEvent" WHERE seq <= $1`, [last.seq]);
      await appendIn(client, [{ operation: "audit.prune", outcome: "OK", count: deletedEvents }]);
      return deletedEvents;
    });
  }

  /** Walks the whole chain from the newest anchor; names the first broken link. */
  async verify(): Promise<ChainReport> {
    const { prisma } = this.database;
    const anchor = await prisma.auditAnchor.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    const start = anchor ?? GENESIS;
    const verifier = new ChainVerifier(start);
    let cursor: bigint | undefined;
    for (;;) {
      const rows = await prisma.auditEvent.findMany({
        where: cursor === undefined ? {} : { seq: { gt: cursor } },
        orderBy: { seq: "asc" },
        take: VERIFY_BATCH,
      });
      for (const row of rows) if (!verifier.check(toStored(row))) break;
      if (verifier.broken || rows.length < VERIFY_BATCH) break;
      cursor = rows.at(-1)!.seq;
    }
    return { intact: !verifier.broken, checkedEvents: verifier.checked, head: verifier.head, start, broken: verifier.broken };
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.database.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

async function lockChain(client: pg.PoolClient): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [CHAIN_LOCK_KEY]);
}

/** The newest event, or else the newest anchor, or else genesis. */
async function chainHead(client: pg.PoolClient): Promise<ChainStart & { atMs?: number }> {
  const { rows } = await client.query<{ seq: string; hash: string; atMs: number | null }>(
    `SELECT head.seq::text AS seq, head.hash, head."atMs" FROM (
       (SELECT seq, hash, ${AT_MS} AS "atMs" FROM "AuditEvent" ORDER BY seq DESC LIMIT 1)
       UNION ALL (SELECT seq, hash, NULL::float8 FROM "AuditAnchor" ORDER BY seq DESC LIMIT 1)
     ) AS head ORDER BY head.seq DESC LIMIT 1`,
  );
  const head = rows[0];
  return head ? { seq: BigInt(head.seq), hash: head.hash, atMs: head.atMs ?? undefined } : GENESIS;
}

async function appendIn(client: pg.PoolClient, records: AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await lockChain(client);
  let head = await chainHead(client);
  for (const record of records) {
    // Never earlier than the row before (clocks of two replicas may disagree): retention can
    // then cut the chain by time and still delete only a prefix of it.
    const at = new Date(Math.max(Date.now(), head.atMs ?? 0));
    const row = {
      seq: head.seq + 1n,
      id: randomUUID(),
      at,
      actorId: record.actorId ?? null,
      tokenPrefix: record.tokenPrefix ?? null,
      clientAddress: record.clientAddress ?? null,
      projectId: record.projectId ?? null,
      operation: record.operation,
      targetIds: record.targetIds ?? [],
      outcome: record.outcome,
      codes: record.codes ?? [],
      requestId: record.requestId ?? null,
      count: record.count ?? 1,
    };
    const hash = chainHash(head.hash, row);
    await client.query(`INSERT INTO "AuditEvent" (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::jsonb, $12, $13, $14, $15)`, [
      row.id,
      row.seq.toString(),
      iso(at),
      row.actorId,
      row.tokenPrefix,
      row.clientAddress,
      row.projectId,
      row.operation,
      json(row.targetIds),
      row.outcome,
      json(row.codes),
      row.requestId,
      row.count,
      head.hash,
      hash,
    ]);
    head = { seq: row.seq, hash, atMs: at.getTime() };
  }
}

/** For timestamp-without-time-zone columns that hold UTC: PostgreSQL ignores the trailing Z. */
const iso = (date: Date) => date.toISOString();
const json = (value: unknown[] | undefined) => JSON.stringify(value ?? []);

function toStored(row: Prisma.AuditEventGetPayload<object>): StoredRow {
  // The JSON columns are hashed as stored, whatever an edit made of them.
  return { ...row, targetIds: row.targetIds as string[], codes: row.codes as string[] };
}

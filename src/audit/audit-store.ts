// Reads and writes of the audit tables. Appends take a transaction-scoped advisory lock, so every
// process and connection appends one after another: two writers can never both follow the same
// row (the chain cannot fork), and positions have no gaps.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../db/prisma.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { AuditOutcome } from "../generated/prisma/enums.js";
import { chainHash, ChainVerifier, GENESIS, type BrokenLink, type ChainStart, type StoredRow } from "./chain.js";

/** Arbitrary constant: the advisory lock that serialises appends (migrations use 72_707_369, the job queue 72_707_371). */
const CHAIN_LOCK_KEY = 72_707_373;
const TRANSACTION = { maxWait: 10_000, timeout: 20_000 };
const VERIFY_BATCH = 1_000;

type Tx = Prisma.TransactionClient;

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

export class AuditStore {
  constructor(private readonly prisma: PrismaClient) {}

  append(...records: AuditRecord[]): Promise<void> {
    return this.prisma.$transaction((tx) => appendIn(tx, records), TRANSACTION);
  }

  /** Writes the intent row of a mutation; returns its id. */
  async begin(record: PendingRecord): Promise<string> {
    const id = randomUUID();
    await this.prisma.auditPending.create({ data: { id, startedAt: new Date(), ...pendingColumns(record) } });
    return id;
  }

  /** Appends the outcome and removes the intent row, together. */
  complete(pendingId: string, record: AuditRecord): Promise<void> {
    return this.prisma.$transaction(async (tx) => {
      await tx.auditPending.deleteMany({ where: { id: pendingId } });
      await appendIn(tx, [record]);
    }, TRANSACTION);
  }

  /** Records intent rows older than `before` as FAILED with OUTCOME_UNKNOWN; returns how many. */
  async recordAbandoned(before: Date): Promise<number> {
    const stale = await this.prisma.auditPending.findMany({ where: { startedAt: { lt: before } }, orderBy: { startedAt: "asc" }, take: 500 });
    let recorded = 0;
    for (const pending of stale) {
      await this.prisma.$transaction(async (tx) => {
        // Deleted first: of two processes sweeping at once, only one records it.
        const { count } = await tx.auditPending.deleteMany({ where: { id: pending.id } });
        if (count === 0) return;
        const { id: _id, startedAt: _startedAt, targetIds, ...rest } = pending;
        await appendIn(tx, [{ ...rest, targetIds: targetIds as string[], outcome: "FAILED", codes: ["OUTCOME_UNKNOWN"] }]);
        recorded += 1;
      }, TRANSACTION);
    }
    return recorded;
  }

  /**
   * Deletes the events written before `cutoff`, after recording an anchor (the last deleted
   * event's position and hash) from which the kept events still verify; then appends an
   * "audit.prune" event saying how many went. Returns that number.
   */
  prune(cutoff: Date): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      await lockChain(tx);
      // `at` never decreases along the chain (see appendIn), so this is a prefix of it.
      const last = await tx.auditEvent.findFirst({ where: { at: { lt: cutoff } }, orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
      if (!last) return 0;
      const deletedEvents = await tx.auditEvent.count({ where: { seq: { lte: last.seq } } });
      await tx.auditAnchor.create({ data: { seq: last.seq, hash: last.hash, deletedEvents } });
      await tx.auditEvent.deleteMany({ where: { seq: { lte: last.seq } } });
      await appendIn(tx, [{ operation: "audit.prune", outcome: "OK", count: deletedEvents }]);
      return deletedEvents;
    }, TRANSACTION);
  }

  /** Walks the whole chain from the newest anchor; names the first broken link. */
  async verify(): Promise<ChainReport> {
    const anchor = await this.prisma.auditAnchor.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    const start = anchor ?? GENESIS;
    const verifier = new ChainVerifier(start);
    let cursor: bigint | undefined;
    for (;;) {
      const rows = await this.prisma.auditEvent.findMany({
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

  /**
   * The project that ids from a mutation's arguments belong to: a project itself, or a backend,
   * instance or provisioning run of one. Null when none of them is (or no longer is) known.
   */
  async projectOf(ids: string[]): Promise<string | null> {
    if (ids.length === 0) return null;
    const rows = await this.prisma.$queryRaw<{ projectId: string }[]>`
      SELECT id::text AS "projectId" FROM "Project" WHERE id = ANY(${ids}::uuid[])
      UNION ALL SELECT "projectId"::text FROM "Backend" WHERE id = ANY(${ids}::uuid[])
      UNION ALL SELECT b."projectId"::text FROM "Instance" i JOIN "Backend" b ON b.id = i."backendId" WHERE i.id = ANY(${ids}::uuid[])
      UNION ALL SELECT b."projectId"::text FROM "ProvisioningRun" r JOIN "Backend" b ON b.id = r."backendId" WHERE r.id = ANY(${ids}::uuid[])
      LIMIT 1`;
    return rows[0]?.projectId ?? null;
  }
}

function lockChain(tx: Tx): Promise<number> {
  return tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY}::bigint)`;
}

async function chainHead(tx: Tx): Promise<ChainStart & { at?: Date }> {
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true, at: true } });
  if (last) return last;
  return (await tx.auditAnchor.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } })) ?? GENESIS;
}

async function appendIn(tx: Tx, records: AuditRecord[]): Promise<void> {
  await lockChain(tx);
  let head = await chainHead(tx);
  for (const record of records) {
    // Never earlier than the row before (clocks of two replicas may disagree): retention can
    // then cut the chain by time and still delete only a prefix of it.
    const at = new Date(Math.max(Date.now(), head.at?.getTime() ?? 0));
    const row = { seq: head.seq + 1n, id: randomUUID(), at, ...pendingColumns(record), outcome: record.outcome, codes: record.codes ?? [], count: record.count ?? 1 };
    const hash = chainHash(head.hash, row);
    await tx.auditEvent.create({ data: { ...row, prevHash: head.hash, hash } });
    head = { seq: row.seq, hash, at };
  }
}

function pendingColumns(record: PendingRecord) {
  return {
    actorId: record.actorId ?? null,
    tokenPrefix: record.tokenPrefix ?? null,
    clientAddress: record.clientAddress ?? null,
    projectId: record.projectId ?? null,
    operation: record.operation,
    targetIds: record.targetIds ?? [],
    requestId: record.requestId ?? null,
  };
}

function toStored(row: Prisma.AuditEventGetPayload<object>): StoredRow {
  // The JSON columns are hashed as stored, whatever an edit made of them.
  return { ...row, targetIds: row.targetIds as string[], codes: row.codes as string[] };
}

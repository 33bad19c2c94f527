// The audit log's hash chain. Each row's hash is sha256(previous row's hash, "\n", the row's
// canonical content); the first row follows GENESIS_HASH, or, after retention pruning, the
// newest anchor (the last deleted row's position and hash). Editing any kept row, removing one
// from the middle, or reordering them changes a hash that a later row (or the row itself) pins.
import { createHash } from "node:crypto";
import type { AuditOutcome } from "../generated/prisma/enums.js";

export const GENESIS_HASH = "0".repeat(64);

/** What a row's hash covers: every column but the hashes themselves. */
export interface ChainedContent {
  seq: bigint;
  id: string;
  at: Date;
  actorId: string | null;
  tokenPrefix: string | null;
  clientAddress: string | null;
  projectId: string | null;
  operation: string;
  targetIds: string[];
  outcome: AuditOutcome;
  codes: string[];
  requestId: string | null;
  count: number;
}

/** Where a chain starts: position 0 and GENESIS_HASH, or the newest anchor. */
export interface ChainStart {
  seq: bigint;
  hash: string;
}

export const GENESIS: ChainStart = { seq: 0n, hash: GENESIS_HASH };

/** A fixed order and JSON encoding: the same row always gives the same bytes. */
export function canonicalContent(row: ChainedContent): string {
  return JSON.stringify([
    row.seq.toString(),
    row.id,
    row.at.toISOString(),
    row.actorId,
    row.tokenPrefix,
    row.clientAddress,
    row.projectId,
    row.operation,
    row.targetIds,
    row.outcome,
    row.codes,
    row.requestId,
    row.count,
  ]);
}

export function chainHash(prevHash: string, row: ChainedContent): string {
  return createHash("sha256").update(prevHash).update("\n").update(canonicalContent(row)).digest("hex");
}

export interface StoredRow extends ChainedContent {
  prevHash: string;
  hash: string;
}

export interface BrokenLink {
  eventId: string;
  seq: bigint;
  problem: string;
}

/** Checks rows fed to it in position order, from a start; remembers the first broken link. */
export class ChainVerifier {
  private previous: ChainStart;
  checked = 0;
  broken?: BrokenLink;

  constructor(start: ChainStart) {
    this.previous = start;
  }

  get head(): ChainStart {
    return this.previous;
  }

  /** False once a link is broken (later rows cannot be trusted to say more). */
  check(row: StoredRow): boolean {
    if (this.broken) return false;
    this.checked += 1;
    const expectedSeq = this.previous.seq + 1n;
    const fail = (problem: string) => {
      this.broken = { eventId: row.id, seq: row.seq, problem };
      return false;
    };
    if (row.seq !== expectedSeq) {
      return fail(
        row.seq > expectedSeq
          ? `${row.seq - expectedSeq} event(s) before it are missing (position ${row.seq} follows ${this.previous.seq})`
          : `its position ${row.seq} does not follow ${this.previous.seq}`,
      );
    }
    if (row.prevHash !== this.previous.hash) {
      return fail("its previous-hash does not match the hash of the event before it (that event was changed or replaced)");
    }
    if (chainHash(row.prevHash, row) !== row.hash) {
      return fail("its content does not match its hash (the event was changed after it was written)");
    }
    this.previous = { seq: row.seq, hash: row.hash };
    return true;
  }
}

// Refused authentications, counted in memory per client address and fixed window, and written
// as one audit row per address per window (operation "auth.failure", with the count): a flood of
// bad tokens costs a counter increment per request, not a row. Each process counts its own
// requests; a crash loses at most the counts of the window in progress.
import type { AuditRecord } from "./audit-store.js";

/** Beyond this many addresses in one window, further addresses share the row of OVERFLOW_ADDRESS. */
const MAX_ADDRESSES = 10_000;
export const OVERFLOW_ADDRESS = "*";
/** Windows waiting to be written after a failed write; the oldest go first beyond this. */
const MAX_UNWRITTEN = 10_000;

interface Entry {
  address: string;
  count: number;
  codes: Set<string>;
}

export class AuthFailureWindows {
  private current = new Map<string, Entry>();
  private windowStart: number;
  private unwritten: AuditRecord[] = [];
  dropped = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = this.startOf(this.now());
  }

  /** Counts one refused authentication; `code` says why (UNAUTHENTICATED, RATE_LIMITED). */
  record(address: string, code: string): void {
    this.rollIfDue();
    const key = this.current.has(address) || this.current.size < MAX_ADDRESSES ? address : OVERFLOW_ADDRESS;
    let entry = this.current.get(key);
    if (!entry) this.current.set(key, (entry = { address: key, count: 0, codes: new Set() }));
    entry.count += 1;
    entry.codes.add(code);
  }

  /** The rows of windows that have ended (and of the current one too, with `closeCurrent`). */
  take(closeCurrent = false): AuditRecord[] {
    this.rollIfDue();
    if (closeCurrent) this.close();
    const rows = this.unwritten;
    this.unwritten = [];
    return rows;
  }

  /** Rows that `take` returned but could not be written: tried again next time. */
  giveBack(rows: AuditRecord[]): void {
    this.unwritten = [...rows, ...this.unwritten];
    const excess = this.unwritten.length - MAX_UNWRITTEN;
    if (excess > 0) {
      this.unwritten.splice(0, excess);
      this.dropped += excess;
    }
  }

  private startOf(time: number): number {
    return Math.floor(time / this.windowMs) * this.windowMs;
  }

  private rollIfDue(): void {
    if (this.now() >= this.windowStart + this.windowMs) this.close();
  }

  private close(): void {
    for (const entry of this.current.values()) {
      this.unwritten.push({
        operation: "auth.failure",
        outcome: "DENIED",
        clientAddress: entry.address,
        codes: [...entry.codes].sort(),
        count: entry.count,
      });
    }
    this.current = new Map();
    this.windowStart = this.startOf(this.now());
  }
}

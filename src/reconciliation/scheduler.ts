// Runs reconciliation passes: every RECONCILE_SECONDS over every backend that provisioning has
// touched or that has live instances, and on demand (reconcileBackend). One process at a time
// reconciles a given backend: each pass holds a PostgreSQL advisory lock keyed by the backend on a
// connection of its own. A timer pass skips a backend another process is reconciling; an
// on-demand pass waits for it, then runs.
import type pg from "pg";
import { advisoryLockKey } from "../db/advisory-lock.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Logger } from "../logging/logger.js";
import { LIVE_STATUSES } from "./instance-records.js";
import type { PassOutcome, Reconciler } from "./reconciler.js";

const lockKey = (backendId: string) => advisoryLockKey(`reconcile:${backendId}`).toString();
/** How long an on-demand pass waits for another process's pass over the same backend. */
const ON_DEMAND_WAIT_MS = 60_000;

export type LockedOutcome = PassOutcome | { done: false; reason: "busy" };

export class ReconcileScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly prisma: PrismaClient,
    private readonly reconciler: Reconciler,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.round(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every backend that needs one; a round still running is not started twice. */
  round(): Promise<void> {
    this.running ??= this.reconcileAll().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A pass over one backend now, after any pass another process is running over it. */
  reconcileNow(backendId: string): Promise<LockedOutcome> {
    return this.withBackendLock(backendId, ON_DEMAND_WAIT_MS, () => this.reconciler.reconcile(backendId));
  }

  private async reconcileAll(): Promise<void> {
    let backends: { id: string }[];
    try {
      backends = await this.prisma.backend.findMany({
        where: { OR: [{ status: { not: "CONFIGURED" } }, { instances: { some: { status: { in: [...LIVE_STATUSES] } } } }] },
        orderBy: [{ lastReconciledAt: { sort: "asc", nulls: "first" } }, { id: "asc" }],
        select: { id: true },
      });
    } catch (error) {
      this.logger.warn({ err: error }, "reconciliation round could not list backends");
      return;
    }
    for (const { id } of backends) {
      if (this.stopping) return;
      const outcome = await this.withBackendLock(id, 0, () => this.reconciler.reconcile(id)).catch((error: unknown) => {
        this.logger.warn({ err: error, backendId: id }, "reconciliation pass failed");
        return null;
      });
      if (outcome && !outcome.done && outcome.reason !== "busy") this.logger.info({ backendId: id, reason: outcome.reason }, "reconciliation pass skipped");
    }
  }

  private async withBackendLock(backendId: string, waitMs: number, work: () => Promise<PassOutcome>): Promise<LockedOutcome> {
    const client = await this.pool.connect();
    const key = lockKey(backendId);
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [key]);
        if (rows[0]?.locked) break;
        if (Date.now() >= deadline) return { done: false, reason: "busy" };
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      try {
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1::bigint)", [key]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }
}

// The audit log as the rest of the service uses it: mutations (wrapped by the GraphQL guard that
// every door goes through), refused authentications (counted by the authentication guard),
// events of background work (e.g. the reconciler), verification, and maintenance: writing the
// authentication windows, retention pruning, and recording mutations whose outcome never came.
import type { Database } from "../db/prisma.js";
import type { Logger } from "../logging/logger.js";
import { AuditStore, type AuditRecord, type ChainReport } from "./audit-store.js";
import { AuthFailureWindows } from "./auth-failures.js";
import { auditedMutation, type MutationCall } from "./mutation-audit.js";

const DAY_MS = 86_400_000;

export interface AuditSettings {
  /** Events older than this many days are pruned (AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  /** Length of a window of counted authentication failures. Default 60 s. */
  authWindowMs?: number;
  /** An intent row this old has lost its mutation (the process died, or its outcome could not be written). Default 1 h. */
  abandonedAfterMs?: number;
  /** How often pruning and the abandoned-intent sweep run. Default 1 h. */
  maintenanceIntervalMs?: number;
}

export class AuditLog {
  readonly store: AuditStore;
  private readonly authFailures: AuthFailureWindows;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Background work in progress, awaited by stop() so it never outlives the database. */
  private readonly running = new Set<Promise<unknown>>();
  private readonly settings: Required<AuditSettings>;

  constructor(
    database: Pick<Database, "pool" | "prisma">,
    private readonly logger: Logger,
    settings: AuditSettings,
  ) {
    this.store = new AuditStore(database);
    this.settings = { authWindowMs: 60_000, abandonedAfterMs: 3_600_000, maintenanceIntervalMs: 3_600_000, ...settings };
    this.authFailures = new AuthFailureWindows(this.settings.authWindowMs);
  }

  /** Runs a mutation between its intent row and its outcome row (see mutation-audit.ts). */
  mutation<T>(call: MutationCall, execute: () => Promise<T>): Promise<T> {
    return auditedMutation(this.store, this.logger, call, execute);
  }

  /**
   * For the authentication guard: one refused authentication from `address` (a bad, revoked or
   * expired token: UNAUTHENTICATED; an address refused for failing too often: RATE_LIMITED).
   * Synchronous and in memory: it never slows a refusal down or fails it.
   */
  recordAuthFailure(address: string, code: string): void {
    this.authFailures.record(address, code);
  }

  /** Writes the windows that have ended (all, with `closeCurrent`: tests and shutdown). */
  async flushAuthFailures(closeCurrent = false): Promise<void> {
    const rows = this.authFailures.take(closeCurrent);
    if (rows.length === 0) return;
    try {
      await this.store.append(...rows);
    } catch (error) {
      this.authFailures.giveBack(rows);
      this.logger.error({ err: error, windows: rows.length }, "audit log unavailable: authentication failure counts kept for the next try");
    }
  }

  /** An event of background work, e.g. { operation: "reconciler.terminate", targetIds, projectId, outcome: "OK" }. Throws when it cannot be written. */
  record(record: AuditRecord): Promise<void> {
    return this.store.append(record);
  }

  verify(): Promise<ChainReport> {
    return this.store.verify();
  }

  /** Retention pruning and the abandoned-intent sweep; logs the chain's head (a witness outside the database). */
  async maintain(now = new Date()): Promise<{ pruned: number; abandoned: number }> {
    const abandoned = await this.store.recordAbandoned(new Date(now.getTime() - this.settings.abandonedAfterMs));
    const pruned = await this.store.prune(new Date(now.getTime() - this.settings.retentionDays * DAY_MS));
    const report = await this.store.verify();
    const head = { seq: report.head.seq.toString(), hash: report.head.hash };
    if (report.intact) this.logger.info({ head, pruned, abandoned, checkedEvents: report.checkedEvents }, "audit chain verified");
    else this.logger.error({ head, broken: { ...report.broken, seq: report.broken?.seq.toString() } }, "audit chain broken");
    return { pruned, abandoned };
  }

  start(): void {
    const every = (ms: number, work: () => Promise<unknown>) => {
      const timer = setInterval(() => this.background(work), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.settings.authWindowMs, () => this.flushAuthFailures());
    every(this.settings.maintenanceIntervalMs, () => this.maintain());
    this.background(() => this.maintain());
  }

  private background(work: () => Promise<unknown>): void {
    const running = work()
      .catch((error) => this.logger.error({ err: error }, "audit maintenance failed"))
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /** Stops the timers and writes the counts of the window in progress. */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...this.running]);
    await this.flushAuthFailures(true);
  }
}

// Provisioning runs are executed through pg-boss, a PostgreSQL-backed job queue: a job per run
// (singleton key = run id), fetched with SKIP LOCKED so one worker takes it. A job whose worker
// died stays active until it expires; pg-boss's maintenance then fails it and retries it, and
// the retry resumes the run from its current step. A server that starts hands such jobs out
// again at once (retryAbandonedJobs), so a restart after a crash does not wait for the expiry.
// A process executes up to `concurrency` runs at once, each under its run's advisory lock.
import PgBoss from "pg-boss";
import { advisoryLockKey, withAdvisoryLock } from "../db/advisory-lock.js";
import type { Logger } from "../logging/logger.js";
import { RunLocks } from "./run-locks.js";
import { FALLBACK_POLLING_SECONDS, WorkerSlots } from "./worker-slots.js";

/** Where accepted runs are handed to be executed. */
export interface RunQueue {
  enqueue(runId: string): Promise<void>;
}

/**
 * Thrown by a run's executor when the run cannot go on here and now (another process holds it,
 * the server is stopping): the job fails quietly and pg-boss hands it out again.
 */
export class JobDeferredError extends Error {}

/** The run is being executed by another process (or another worker of this one) right now. */
export class RunLockedError extends JobDeferredError {}

const QUEUE = "provisioning-run";
const SCHEMA = "pgboss";
/** Arbitrary constant: the advisory lock under which the queue is set up. */
const QUEUE_SETUP_LOCK_KEY = 72_707_371;

export interface RunQueueSettings {
  databaseUrl: string;
  /** Execute runs in this process (false: only enqueue, e.g. an API-only replica). */
  worker: boolean;
  /** Runs this process executes at once (pg-boss workers). */
  concurrency: number;
  /** A run's job counts as abandoned after this long active (its process died). */
  jobExpireSeconds: number;
  /** How often abandoned jobs are looked for. */
  maintenanceIntervalSeconds: number;
  pollingIntervalSeconds: number;
}

export class PgBossRunQueue implements RunQueue {
  private readonly boss: PgBoss;
  private readonly abort = new AbortController();
  private readonly locks: RunLocks;
  private readonly slots: WorkerSlots;

  constructor(
    private readonly settings: RunQueueSettings,
    private readonly logger: Logger,
  ) {
    this.boss = new PgBoss({
      connectionString: settings.databaseUrl,
      schema: SCHEMA,
      max: 4,
      supervise: true,
      // No cron jobs here: without this, every start queries the clock skew, creates pg-boss's
      // scheduling queue and starts a worker for it.
      schedule: false,
      maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
      monitorStateIntervalSeconds: Math.max(settings.maintenanceIntervalSeconds, 10),
    });
    this.boss.on("error", (error) => logger.warn({ err: error }, "job queue error"));
    this.locks = new RunLocks(settings.databaseUrl, logger);
    this.slots = new WorkerSlots((workerId) => this.boss.notifyWorker(workerId));
  }

  /** Starts pg-boss (creating its schema on first use) and, when enabled, the workers. */
  async start(execute: (runId: string, signal: AbortSignal) => Promise<void>, pendingRunIds: () => Promise<string[]>): Promise<void> {
    // pg-boss's schema set-up and queue creation deadlock when two servers start at once: they
    // take turns under an advisory lock, as migrations do.
    await withAdvisoryLock(this.settings.databaseUrl, QUEUE_SETUP_LOCK_KEY, async () => {
      await this.boss.start();
      const options = { name: QUEUE, policy: "stately" as const, retryLimit: 1000, retryDelay: 1, retryBackoff: false, expireInSeconds: this.settings.jobExpireSeconds };
      if (await this.boss.getQueue(QUEUE)) await this.boss.updateQueue(QUEUE, options);
      else await this.boss.createQueue(QUEUE, options);
      // Under the same lock, so servers starting together do not both hand out one job.
      await this.retryAbandonedJobs().catch((error) => this.logger.warn({ err: error }, "could not look for abandoned runs"));
    });
    if (!this.settings.worker) return;
    // pg-boss 10 runs one job at a time per worker: concurrency is that many workers.
    for (let i = 0; i < this.settings.concurrency; i++) {
      const worker = { id: "" };
      worker.id = await this.boss.work<{ runId: string }>(
        QUEUE,
        { pollingIntervalSeconds: Math.max(FALLBACK_POLLING_SECONDS, this.settings.pollingIntervalSeconds), batchSize: 1 },
        async ([job]) => {
          if (job) await this.slots.run(worker.id, () => this.executeLocked(job.data.runId, execute));
        },
      );
      this.slots.add(worker.id);
    }
    this.slots.start(this.settings.pollingIntervalSeconds * 1000);
    // Runs accepted while no job could be written (a crash between commit and enqueue).
    for (const runId of await pendingRunIds()) await this.enqueue(runId);
  }

  /**
   * Hands out again, now, the jobs of runs whose process died (SIGKILL, a crash, a lost host):
   * their job is still active, and would only be retried once it expires (RUN_JOB_EXPIRE_SECONDS,
   * minutes), so a server restarted after a crash would sit idle until then. A job is abandoned
   * when nobody holds its run's advisory lock, which the executing process holds for the whole
   * run (and PostgreSQL releases when that process's connection dies). Failing it makes pg-boss
   * retry it, and the retry resumes the run from its current step. Called at start-up, before
   * this process's worker could have taken any job.
   */
  private async retryAbandonedJobs(): Promise<void> {
    const db = this.boss.getDb();
    const active = await db.executeSql(`SELECT id, data->>'runId' AS "runId" FROM ${SCHEMA}.job WHERE name = $1 AND state = 'active'`, [QUEUE]);
    for (const job of active.rows as { id: string; runId: string | null }[]) {
      if (!job.runId) continue;
      // One statement, so the lock is taken and released on the same session.
      const { rows } = await db.executeSql(
        "SELECT CASE WHEN pg_try_advisory_lock($1::bigint) THEN pg_advisory_unlock($1::bigint) ELSE false END AS free",
        [advisoryLockKey(job.runId).toString()],
      );
      if (!rows[0]?.free) continue; // being executed right now
      await this.boss.fail(QUEUE, job.id, { message: "abandoned: the process executing the run stopped" });
      this.logger.info({ runId: job.runId }, "resuming a run abandoned by a stopped process");
    }
  }

  /** Executes a run under its advisory lock; any failure fails the job, and pg-boss retries it. */
  private async executeLocked(runId: string, execute: (runId: string, signal: AbortSignal) => Promise<void>): Promise<void> {
    try {
      const lock = await this.locks.tryHold(runId);
      if (!lock) throw new RunLockedError(`run ${runId} is being executed by another process`);
      try {
        // Interrupted at its next safe point when the server stops or the lock is lost.
        await execute(runId, AbortSignal.any([this.abort.signal, lock.lost]));
      } finally {
        await lock.release();
      }
    } catch (error) {
      // Failing the job makes pg-boss retry it: another process (or this one after a restart)
      // resumes the run from its current step.
      const expected = error instanceof JobDeferredError;
      this.logger[expected ? "info" : "warn"]({ runId, reason: (error as Error).message }, "run execution deferred");
      throw error;
    }
  }

  async enqueue(runId: string): Promise<void> {
    await this.boss.send(QUEUE, { runId }, { singletonKey: runId });
    this.slots.wakeOne();
  }

  /** Jobs waiting for a worker (created, or failed and due for a retry) and being executed: the queue's depth, for metrics. */
  async jobCounts(): Promise<{ queued: number; active: number }> {
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS queued, count(*) FILTER (WHERE state = 'active')::int AS active
       FROM ${SCHEMA}.job WHERE name = $1`,
      [QUEUE],
    );
    const counts = rows[0] as { queued: number; active: number } | undefined;
    return { queued: counts?.queued ?? 0, active: counts?.active ?? 0 };
  }

  /** Interrupts runs at their next safe point and waits for the worker to let go. */
  async stop(): Promise<void> {
    this.slots.stop();
    this.abort.abort();
    await this.boss.stop({ graceful: true, wait: true, timeout: 15_000, close: true }).catch(() => undefined);
    await this.locks.close();
  }
}

// The per-run advisory locks of one process. A process executing a run holds the run's
// session-level advisory lock for the whole run; PostgreSQL releases it when the process's
// connection dies, which is how other replicas tell an abandoned run from one in progress.
// Every run of this process is locked on one shared connection (a session may hold any number of
// advisory locks), so executing twenty runs at once costs one connection, not twenty.
import pg from "pg";
import { advisoryLockKey } from "../db/advisory-lock.js";
import type { Logger } from "../logging/logger.js";

export interface HeldRunLock {
  /** Aborted when the lock connection is lost: the lock no longer protects the run. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export class RunLocks {
  private connection?: Promise<{ client: pg.Client; lost: AbortController }>;
  /** Runs locked here: the same session would get the same advisory lock again (locks are re-entrant). */
  private readonly held = new Set<string>();
  /** The shared connection's last statement: the next waits for it (pg deprecates queueing queries on a client). */
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  /** The run's lock, or null when another process (or another worker here) holds it. */
  async tryHold(runId: string): Promise<HeldRunLock | null> {
    if (this.held.has(runId)) return null;
    this.held.add(runId);
    try {
      const { client, lost } = await this.connect();
      const key = advisoryLockKey(runId).toString();
      const { rows } = await this.serial(() => client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [key]));
      if (!rows[0]?.locked) {
        this.held.delete(runId);
        return null;
      }
      return {
        lost: lost.signal,
        release: async () => {
          this.held.delete(runId);
          if (!lost.signal.aborted) await this.serial(() => client.query("SELECT pg_advisory_unlock($1::bigint)", [key])).catch(() => undefined);
        },
      };
    } catch (error) {
      this.held.delete(runId);
      throw error;
    }
  }

  /** Runs `statement` once the shared connection's previous one has finished. */
  private serial<T>(statement: () => Promise<T>): Promise<T> {
    const next = this.last.then(statement, statement);
    this.last = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection.catch(() => null))?.client.end().catch(() => undefined);
  }

  private connect(): Promise<{ client: pg.Client; lost: AbortController }> {
    if (this.connection) return this.connection;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    const lost = new AbortController();
    const connection = client.connect().then(() => ({ client, lost }));
    const onLost = (error?: Error) => {
      if (this.connection === connection) this.connection = undefined;
      if (lost.signal.aborted) return;
      // Every lock went with the session: the runs stop at their next safe point and are retried.
      if (this.held.size) this.logger.warn({ err: error, runs: this.held.size }, "run lock connection lost; interrupting the runs it protected");
      lost.abort(new Error("run lock connection lost"));
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    connection.catch(() => onLost());
    this.connection = connection;
    return connection;
  }
}

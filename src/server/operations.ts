// Wiring for what operators use: metrics sources read on scrape, and the provisioning runs'
// outcomes seen by metrics. Kept here so app.ts only plugs them in.
import type pg from "pg";
import type { Config } from "../config/config.js";
import type { Database } from "../db/prisma.js";
import { InstanceStatus } from "../generated/prisma/enums.js";
import type { PgBossRunQueue } from "../jobs/run-queue.js";
import { Metrics } from "../metrics/metrics.js";
import type { RunView } from "../provisioning/run-view.js";

export function createMetrics(config: Config, database: Database, runQueue: () => PgBossRunQueue): Metrics {
  return new Metrics({
    pool: database.pool,
    poolMax: config.DATABASE_POOL_SIZE,
    queueJobs: () => runQueue().jobCounts(),
    instancesByStatus: () => instancesByStatus(database.pool),
  });
}

async function instancesByStatus(pool: pg.Pool): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(Object.values(InstanceStatus).map((status) => [status, 0]));
  const { rows } = await pool.query<{ status: string; count: number }>(`SELECT status::text AS status, count(*)::int AS count FROM "Instance" GROUP BY status`);
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

/** The run executor's publish, also counting each run that finishes. */
export function countingFinishedRuns(metrics: Metrics, publish: (run: RunView) => void): (run: RunView) => void {
  return (run) => {
    if (run.status === "SUCCEEDED" || run.status === "FAILED") {
      const seconds = run.startedAt && run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null;
      metrics.observeRun(run.kind, run.status === "SUCCEEDED" ? "succeeded" : "failed", seconds);
    }
    publish(run);
  };
}

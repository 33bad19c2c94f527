// Prometheus metrics (prom-client), one registry per server, built by the composition root and
// served at GET /metrics (metrics-route.ts). Label values come from small, fixed sets (statuses,
// IAM actions, run kinds) or are capped (operation names: see operation-names.ts), so no client
// can make the series count grow without bound.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { OperationNames } from "./operation-names.js";

export type GraphqlOutcome = "ok" | "error";
export type AwsCallOutcome = "ok" | "throttled" | "denied" | "error";
export type RunOutcome = "succeeded" | "failed";

/** Values read on each scrape. A source that fails leaves its gauge at its last value. */
export interface MetricSources {
  /** Instances per status (every status, zero included). */
  instancesByStatus(): Promise<Record<string, number>>;
  /** Provisioning jobs waiting to be taken and being executed. */
  queueJobs(): Promise<{ queued: number; active: number }>;
  /** The database pool (pg.Pool has these counters). */
  pool: { totalCount: number; idleCount: number; waitingCount: number };
  poolMax: number;
}

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_RUN = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new OperationNames();
  private readonly graphqlRequests: Counter<"operation" | "outcome">;
  private readonly graphqlDuration: Histogram<"operation" | "outcome">;
  private readonly awsCalls: Counter<"service" | "action" | "outcome">;
  private readonly awsDuration: Histogram<"service" | "action" | "outcome">;
  private readonly runs: Counter<"kind" | "outcome">;
  private readonly runDuration: Histogram<"kind" | "outcome">;
  private readonly reconcilerFindings: Counter<"kind">;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.graphqlRequests = new Counter({
      name: "backend_hub_graphql_requests_total",
      help: "GraphQL operations (HTTP and WebSocket) by operation name (anonymous: unnamed; other: beyond the cap) and outcome (error: the response carried errors).",
      labelNames: ["operation", "outcome"],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: "backend_hub_graphql_request_duration_seconds",
      help: "Time to answer a GraphQL operation (for a subscription: to set it up).",
      labelNames: ["operation", "outcome"],
      buckets: SECONDS_FAST,
      registers,
    });
    this.awsCalls = new Counter({
      name: "backend_hub_aws_calls_total",
      help: "AWS SDK calls (one per logical call, its retries included) by service, IAM action and outcome (ok, throttled, denied, error).",
      labelNames: ["service", "action", "outcome"],
      registers,
    });
    this.awsDuration = new Histogram({
      name: "backend_hub_aws_call_duration_seconds",
      help: "Duration of AWS SDK calls, retries included.",
      labelNames: ["service", "action", "outcome"],
      buckets: SECONDS_FAST,
      registers,
    });
    this.runs = new Counter({
      name: "backend_hub_provisioning_runs_total",
      help: "Provisioning runs finished, by kind (PROVISION, TEARDOWN) and outcome (succeeded, failed).",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.runDuration = new Histogram({
      name: "backend_hub_provisioning_run_duration_seconds",
      help: "Duration of finished provisioning runs, from start to finish.",
      labelNames: ["kind", "outcome"],
      buckets: SECONDS_RUN,
      registers,
    });
    this.reconcilerFindings = new Counter({
      name: "backend_hub_reconciler_findings_total",
      help: "What the reconciler found (and acted on), by kind.",
      labelNames: ["kind"],
      registers,
    });
    new Gauge({
      name: "backend_hub_instances",
      help: "Instances known to the service, by status (read from the database on each scrape).",
      labelNames: ["status"],
      registers,
      async collect() {
        const counts = await sources.instancesByStatus().catch(() => undefined);
        if (counts) for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
    new Gauge({
      name: "backend_hub_job_queue_depth",
      help: "Provisioning jobs in the queue, by state (queued: waiting for a worker; active: being executed).",
      labelNames: ["state"],
      registers,
      async collect() {
        const jobs = await sources.queueJobs().catch(() => undefined);
        if (jobs) for (const [state, count] of Object.entries(jobs)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: "backend_hub_db_pool_connections",
      help: "Database pool connections by state (total open, idle, and waiting: requests queued for a connection).",
      labelNames: ["state"],
      registers,
      collect() {
        this.set({ state: "total" }, sources.pool.totalCount);
        this.set({ state: "idle" }, sources.pool.idleCount);
        this.set({ state: "waiting" }, sources.pool.waitingCount);
      },
    });
    new Gauge({ name: "backend_hub_db_pool_max", help: "Most connections the database pool opens (DATABASE_POOL_SIZE).", registers }).set(sources.poolMax);
  }

  observeGraphql(operationName: string | null | undefined, outcome: GraphqlOutcome, seconds: number): void {
    const labels = { operation: this.operationNames.label(operationName), outcome };
    this.graphqlRequests.inc(labels);
    this.graphqlDuration.observe(labels, seconds);
  }

  observeAwsCall(service: string, action: string, outcome: AwsCallOutcome, seconds: number): void {
    this.awsCalls.inc({ service, action, outcome });
    this.awsDuration.observe({ service, action, outcome }, seconds);
  }

  /** A provisioning run that reached SUCCEEDED or FAILED. */
  observeRun(kind: string, outcome: RunOutcome, seconds: number | null): void {
    this.runs.inc({ kind, outcome });
    if (seconds !== null) this.runDuration.observe({ kind, outcome }, seconds);
  }

  /** For the reconciler: one finding of `kind` (e.g. "orphan_terminated"). Kinds must come from a fixed set. */
  recordReconcilerFinding(kind: string): void {
    this.reconcilerFindings.inc({ kind });
  }
}

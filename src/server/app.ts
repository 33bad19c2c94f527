// Assembles the running service: database, job queue, services, GraphQL over HTTP and
// WebSocket, health endpoints, and an orderly shutdown (stop accepting, drain in-flight
// requests, interrupt runs at a safe point, close the pool, stop the embedded database).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { createAwsClientFactory, type AwsCallMiddleware } from "../aws/clients.js";
import type { Config } from "../config/config.js";
import { loadKeyring } from "../crypto/keyring.js";
import { openDatabase, type Database } from "../db/prisma.js";
import { EventBus } from "../events/event-bus.js";
import { PgEventTarget } from "../events/pg-event-target.js";
import type { Context } from "../graphql/context.js";
import { buildApiSchema } from "../resolvers/schema.js";
import { playgroundRouter } from "../http/playground/playground.js";
import { PgBossRunQueue } from "../jobs/run-queue.js";
import type { Logger } from "../logging/logger.js";
import { RunExecutor } from "../provisioning/run-executor.js";
import { InstanceSync } from "../compute/instance-sync.js";
import { createServices, type Services } from "./services.js";
import { apolloContext, apolloGuards } from "../graphql/guards/apollo-guards.js";
import { createOperationGuards } from "../graphql/guards/operation-guards.js";
import { DEFAULT_QUERY_LIMITS } from "../graphql/guards/query-limits.js";
import { RateLimits } from "../graphql/guards/rate-limits.js";
import { websocketGuards } from "../graphql/guards/websocket-guards.js";
import { healthRoutes } from "../http/health.js";
import { jsonBodyErrors, utf8BodiesOnly } from "../http/http-errors.js";
import { requestLogging } from "../http/request-logging.js";
import { serveGraphqlOverWebSocket } from "../http/websocket-server.js";
import { AuditLog } from "../audit/audit-log.js";
import type { Metrics } from "../metrics/metrics.js";
import { graphqlMetricsPlugin, withWebSocketMetrics } from "../metrics/graphql-metrics.js";
import { metricsRoute } from "../metrics/metrics-route.js";
import { reconcilerListeners } from "./reconciler-listeners.js";
import { countingFinishedRuns, createMetrics } from "./operations.js";
import { preStart, type PreStart } from "./pre-start.js";

export interface RunningServer {
  url: string;
  port: number;
  logger: Logger;
  database: Database;
  services: Services;
  metrics: Metrics;
  /** The bootstrap admin token, when this start created the first admin. */
  adminToken?: string;
  /** Refreshes instance states from EC2 now (tests; the worker also does it on a timer). */
  syncInstances(): Promise<void>;
  /** One reconciliation round over every backend now (tests; the worker does it every RECONCILE_SECONDS). */
  reconcileBackends(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  logDestination?: NodeJS.WritableStream;
  /** Observes every AWS call (tests record them to check least privilege). */
  awsMiddleware?: AwsCallMiddleware;
  /** The start's first part, begun before this module was imported (main.ts); else run here. */
  preStarted?: PreStart;
}

/** Request bodies and WebSocket messages alike. */
const BODY_LIMIT = "1mb";
const BODY_LIMIT_BYTES = 1024 * 1024;

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const { logger, timeline, database: ready } = options.preStarted ?? preStart(config, options.logDestination);
  const { url: databaseUrl, embedded, applied } = await ready;
  if (applied.length) logger.info({ applied }, "migrations applied");
  const database = openDatabase(databaseUrl, config.DATABASE_POOL_SIZE);
  // Side by side: Prisma's engine (its query compiler is loaded on connect) and the keyring.
  let loaded;
  try {
    loaded = await Promise.all([
      timeline.time("prismaConnect", () => database.prisma.$connect()),
      timeline.time("keyring", () => loadKeyring({ encryptionKeys: config.ENCRYPTION_KEYS, dataDir: config.dataDir })),
    ]);
  } catch (error) {
    await database.close();
    await embedded?.stop();
    throw error;
  }
  const [, { keyring, warning }] = loaded;
  if (warning) logger.warn(warning);
  const metrics = createMetrics(config, database, () => runQueue);
  const aws = createAwsClientFactory({
    endpoint: config.AWS_ENDPOINT_URL,
    middleware: options.awsMiddleware,
    observer: (call, outcome, seconds) => metrics.observeAwsCall(call.service, call.action, outcome, seconds),
  });
  const eventTarget = new PgEventTarget(database.pool, databaseUrl, logger);
  const events = new EventBus(eventTarget);
  const runQueue = new PgBossRunQueue(
    {
      databaseUrl,
      worker: config.PROVISIONING_WORKER,
      concurrency: config.PROVISIONING_CONCURRENCY,
      jobExpireSeconds: config.RUN_JOB_EXPIRE_SECONDS,
      maintenanceIntervalSeconds: config.JOB_MAINTENANCE_SECONDS,
      pollingIntervalSeconds: 0.5,
    },
    logger,
  );
  const audit = new AuditLog(database, logger, { retentionDays: config.AUDIT_RETENTION_DAYS });
  // What provisioning opens SSH to, and what the reconciler checks the security group against.
  const sshIngressCidrs = config.SSH_INGRESS_CIDRS.split(",").map((cidr) => cidr.trim());
  const services = createServices({
    audit,
    reconcilerListeners: reconcilerListeners(audit, metrics, logger),
    prisma: database.prisma,
    aws,
    keyring,
    defaultCredentialsEnabled: config.AWS_DEFAULT_CREDENTIALS === "enabled",
    runQueue,
    events,
    launchRetry: { maxWaitMs: config.LAUNCH_RETRY_SECONDS * 1000, initialDelayMs: config.LAUNCH_RETRY_INITIAL_MS },
    database,
    logger,
    reconciliation: { orphanGraceMs: config.ORPHAN_GRACE_SECONDS * 1000, sshIngressCidrs },
  });
  const executor = new RunExecutor(database, services.backends, services.deletion, countingFinishedRuns(metrics, services.publishRun), logger, {
    sshIngressCidrs,
    stepAttempts: config.STEP_ATTEMPTS,
    minRetryDelayMs: 200,
    maxRetryDelayMs: 10_000,
  });
  const rateLimits = new RateLimits({ authFailuresPerMinute: config.RATE_LIMIT_AUTH_FAILURES, awsMutationsPerMinute: config.RATE_LIMIT_AWS_MUTATIONS });
  const guards = createOperationGuards(
    { limits: DEFAULT_QUERY_LIMITS, introspection: config.INTROSPECTION, debugErrors: config.DEBUG_ERRORS, trustProxy: config.TRUST_PROXY },
    { services, database, logger, events, rateLimits },
  );
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", guards.trustProxy);
  const httpServer = http.createServer(app);

  /** The schema, the WebSocket endpoint and Apollo: no database needed. */
  async function startGraphql() {
    const schema = await timeline.time("schema", () => buildApiSchema());
    // Queries, mutations and subscriptions over graphql-ws, on the same port and path, through the same guards.
    const websocket = serveGraphqlOverWebSocket(httpServer, withWebSocketMetrics(metrics, websocketGuards(schema, guards)), { path: "/graphql", maxPayloadBytes: BODY_LIMIT_BYTES, logger });
    const httpGuards = apolloGuards(guards);
    const apollo = new ApolloServer<Context>({
      schema,
      ...httpGuards,
      stopOnTerminationSignals: false,
      allowBatchedHttpRequests: false,
      plugins: [
        ...httpGuards.plugins,
        ApolloServerPluginDrainHttpServer({ httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        // No cache hints in this schema; Apollo's default plugin would still run a hook on every field.
        ApolloServerPluginCacheControlDisabled(),
        graphqlMetricsPlugin<Context>(metrics),
        { serverWillStart: async () => ({ drainServer: () => websocket.dispose() }) },
      ],
    });
    await timeline.time("apollo", () => apollo.start());
    return apollo;
  }

  // Mostly waiting on PostgreSQL, or (the schema) on nothing but the CPU: side by side, the
  // database work first so that its queries are in flight while the schema is built. The job
  // queue's workers may publish events before the LISTEN connection is up: events are NOTIFYed
  // through the pool, and only this process's subscribers (none before it listens) need LISTEN.
  const [bootstrap, , , apollo] = await Promise.all([
    timeline.time("adminBootstrap", () => services.users.bootstrapAdmin(config.ADMIN_TOKEN)),
    timeline.time("eventListener", () => eventTarget.start()),
    timeline.time("jobQueue", () =>
      runQueue.start(
        (runId, signal) => executor.execute(runId, signal),
        async () => (await database.prisma.provisioningRun.findMany({ where: { status: "QUEUED" }, select: { id: true } })).map((run) => run.id),
      ),
    ),
    startGraphql(),
  ]);

  const instanceSync = new InstanceSync(database, services.backends, services.instances, logger, (row, reason) => services.instanceGone(row, reason));
  if (config.INSTANCE_SYNC_SECONDS > 0 && config.PROVISIONING_WORKER) instanceSync.start(config.INSTANCE_SYNC_SECONDS * 1000);
  if (config.RECONCILE_SECONDS > 0 && config.PROVISIONING_WORKER) services.reconcileScheduler.start(config.RECONCILE_SECONDS * 1000);

  app.use(requestLogging(logger));
  // The playground takes a browser's GET /graphql, so it comes first; then /graphql, ahead of the
  // rarer routes, since Express tries them in order for every request.
  if (config.PLAYGROUND) app.use(playgroundRouter({ graphqlPath: "/graphql" }));
  app.use("/graphql", utf8BodiesOnly, express.json({ limit: BODY_LIMIT }), jsonBodyErrors(BODY_LIMIT), expressMiddleware(apollo, { context: apolloContext(guards) }));
  app.use(healthRoutes(database));
  app.use(metricsRoute(metrics, config.METRICS_TOKEN));

  await timeline.time(
    "listen",
    () =>
      new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.PORT, config.HOST, () => resolve());
      }),
  );
  audit.start();
  const { port } = httpServer.address() as AddressInfo;
  logger.info({ startup: { totalMs: timeline.totalMs, phases: timeline.phases } }, "listening");
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    logger,
    database,
    services,
    metrics,
    adminToken: bootstrap?.token,
    syncInstances: () => instanceSync.round(),
    reconcileBackends: () => services.reconcileScheduler.round(),
    close() {
      closing ??= (async () => {
        await apollo.stop();
        await instanceSync.stop();
        await services.reconcileScheduler.stop();
        await runQueue.stop();
        await audit.stop();
        await eventTarget.close();
        await database.close();
        aws.destroy();
        await embedded?.stop();
      })();
      return closing;
    },
  };
}

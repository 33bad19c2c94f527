// Assembles the running service: database, job queue, services, GraphQL over HTTP and
// WebSocket, health endpoints, and an orderly shutdown (stop accepting, drain in-flight
// requests, interrupt runs at a safe point, close the pool, stop the embedded database).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { createAwsClientFactory, type AwsCallMiddleware } from "../aws/clients.js";
import type { Config } from "../config/config.js";
import { loadKeyring } from "../crypto/keyring.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded-postgres.js";
import { migrate } from "../db/migrate.js";
import { openDatabase, type Database } from "../db/prisma.js";
import { EventBus } from "../events/event-bus.js";
import { PgEventTarget } from "../events/pg-event-target.js";
import type { Context } from "../graphql/context.js";
import { createLoaders } from "../graphql/loaders.js";
import { buildApiSchema } from "../resolvers/schema.js";
import { playgroundRouter } from "../http/playground/playground.js";
import { PgBossRunQueue } from "../jobs/run-queue.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { RunExecutor } from "../provisioning/run-executor.js";
import { InstanceSync } from "../compute/instance-sync.js";
import { createServices, type Services } from "./services.js";
import { createContextFactory, resolveViewer } from "../graphql/guards/context-factory.js";
import { createFormatError } from "../graphql/guards/format-error.js";
import { healthRoutes } from "../http/health.js";
import { DEFAULT_QUERY_LIMITS, queryLimits } from "../graphql/guards/query-limits.js";
import { RateLimits } from "../graphql/guards/rate-limits.js";
import { jsonBodyErrors } from "../http/http-errors.js";
import { requestLogging } from "../http/request-logging.js";

export interface RunningServer {
  url: string;
  port: number;
  logger: Logger;
  database: Database;
  services: Services;
  /** The bootstrap admin token, when this start created the first admin. */
  adminToken?: string;
  /** Refreshes instance states from EC2 now (tests; the worker also does it on a timer). */
  syncInstances(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  logDestination?: NodeJS.WritableStream;
  /** Observes every AWS call (tests record them to check least privilege). */
  awsMiddleware?: AwsCallMiddleware;
}

const BODY_LIMIT = "1mb";

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = createLogger(config.LOG_LEVEL, options.logDestination);
  let embedded: EmbeddedDatabase | undefined;
  const databaseUrl = config.DATABASE_URL ?? (embedded = await startEmbeddedPostgres(config.dataDir, logger)).url;
  try {
    const { applied } = await migrate(databaseUrl);
    if (applied.length) logger.info({ applied }, "migrations applied");
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const database = openDatabase(databaseUrl, config.DATABASE_POOL_SIZE);
  const { keyring, warning } = await loadKeyring({ encryptionKeys: config.ENCRYPTION_KEYS, dataDir: config.dataDir });
  if (warning) logger.warn(warning);
  const aws = createAwsClientFactory({ endpoint: config.AWS_ENDPOINT_URL, middleware: options.awsMiddleware });
  const eventTarget = new PgEventTarget(database.pool, databaseUrl, logger);
  await eventTarget.start();
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
  const services = createServices({
    prisma: database.prisma,
    aws,
    keyring,
    defaultCredentialsEnabled: config.AWS_DEFAULT_CREDENTIALS === "enabled",
    runQueue,
    events,
    launchRetry: { maxWaitMs: config.LAUNCH_RETRY_SECONDS * 1000, initialDelayMs: config.LAUNCH_RETRY_INITIAL_MS },
  });
  const bootstrap = await services.users.bootstrapAdmin(config.ADMIN_TOKEN);
  const executor = new RunExecutor(database, services.backends, services.publishRun, logger, {
    sshIngressCidrs: config.SSH_INGRESS_CIDRS.split(",").map((cidr) => cidr.trim()),
    stepAttempts: config.STEP_ATTEMPTS,
    minRetryDelayMs: 200,
    maxRetryDelayMs: 10_000,
  });
  await runQueue.start(
    (runId, signal) => executor.execute(runId, signal),
    async () => (await database.prisma.provisioningRun.findMany({ where: { status: "QUEUED" }, select: { id: true } })).map((run) => run.id),
  );

  const rateLimits = new RateLimits({ authFailuresPerMinute: config.RATE_LIMIT_AUTH_FAILURES, awsMutationsPerMinute: config.RATE_LIMIT_AWS_MUTATIONS });
  const instanceSync = new InstanceSync(database, services.backends, services.instances, logger);
  if (config.INSTANCE_SYNC_SECONDS > 0 && config.PROVISIONING_WORKER) instanceSync.start(config.INSTANCE_SYNC_SECONDS * 1000);
  const schema = await buildApiSchema();
  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);

  // Subscriptions: graphql-ws on the same port and path as queries.
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const wsCleanup = useServer<Record<string, unknown>>(
    {
      schema,
      context: async (ctx): Promise<Context> => {
        const params = ctx.connectionParams ?? {};
        const authorization = String(params.Authorization ?? params.authorization ?? "") || undefined;
        const clientAddress = ctx.extra.request.socket.remoteAddress ?? "unknown";
        const viewer = await resolveViewer(services, rateLimits, clientAddress, authorization);
        return { viewer, requestId: "ws", services, loaders: createLoaders(database.prisma), logger, events, rateLimits, clientAddress };
      },
    },
    wsServer,
  );

  const armor = queryLimits(DEFAULT_QUERY_LIMITS, config.INTROSPECTION);
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.INTROSPECTION,
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: config.DEBUG_ERRORS,
    formatError: createFormatError(logger, config.DEBUG_ERRORS),
    validationRules: armor.validationRules,
    plugins: [
      ...(armor.plugins as ApolloServerPlugin<Context>[]),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
    ],
  });
  await apollo.start();

  app.use(requestLogging(logger));
  app.use(healthRoutes(database));
  if (config.PLAYGROUND) app.use(playgroundRouter({ graphqlPath: "/graphql" }));
  app.use(
    "/graphql",
    express.json({ limit: BODY_LIMIT }),
    jsonBodyErrors(BODY_LIMIT),
    expressMiddleware(apollo, { context: createContextFactory({ services, database, logger, events, rateLimits }) }),
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    logger,
    database,
    services,
    adminToken: bootstrap?.token,
    syncInstances: () => instanceSync.round(),
    close() {
      closing ??= (async () => {
        await apollo.stop();
        await instanceSync.stop();
        await runQueue.stop();
        await eventTarget.close();
        await database.close();
        aws.destroy();
        await embedded?.stop();
      })();
      return closing;
    },
  };
}

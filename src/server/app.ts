// Assembles the running service: database, services, GraphQL over HTTP, health endpoints, and
// an orderly shutdown (stop accepting, drain in-flight requests, close the pool, stop the
// embedded database).
import http from "node:http";
import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { createAwsClientFactory, type AwsCallMiddleware } from "../aws/clients.js";
import type { Config } from "../config/config.js";
import { loadKeyring } from "../crypto/keyring.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded-postgres.js";
import { migrate, migrationsApplied } from "../db/migrate.js";
import { openDatabase, type Database } from "../db/prisma.js";
import type { Context } from "../graphql/context.js";
import { buildApiSchema } from "../graphql/schema.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { createServices, type Services } from "../services/services.js";
import { createContextFactory } from "./context-factory.js";
import { createFormatError } from "./format-error.js";
import { jsonBodyErrors } from "./http-errors.js";

export interface RunningServer {
  url: string;
  port: number;
  logger: Logger;
  database: Database;
  services: Services;
  /** The bootstrap admin token, when this start created the first admin. */
  adminToken?: string;
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
  const services = createServices({
    prisma: database.prisma,
    aws,
    keyring,
    defaultCredentialsEnabled: config.AWS_DEFAULT_CREDENTIALS === "enabled",
  });
  const bootstrap = await services.users.bootstrapAdmin(config.ADMIN_TOKEN);

  const schema = await buildApiSchema();
  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.INTROSPECTION,
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: config.DEBUG_ERRORS,
    formatError: createFormatError(logger, config.DEBUG_ERRORS),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = (typeof req.headers["x-request-id"] === "string" && req.headers["x-request-id"].slice(0, 100)) || randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  let migrationsKnownApplied = false;
  app.get("/readyz", async (_req, res) => {
    try {
      migrationsKnownApplied ||= await migrationsApplied(database.pool);
      if (!migrationsKnownApplied) throw new Error("migrations pending");
      await database.pool.query("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable", reason: "database unreachable or migrations pending" });
    }
  });

  app.use(
    "/graphql",
    express.json({ limit: BODY_LIMIT }),
    jsonBodyErrors(BODY_LIMIT),
    expressMiddleware(apollo, { context: createContextFactory({ services, database, logger }) }),
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = httpServer.address() as import("node:net").AddressInfo;
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  const url = `http://${host}:${address.port}/graphql`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    logger,
    database,
    services,
    adminToken: bootstrap?.token,
    close() {
      closing ??= (async () => {
        await apollo.stop();
        await database.close();
        aws.destroy();
        await embedded?.stop();
      })();
      return closing;
    },
  };
}

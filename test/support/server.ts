// Starts the real server (HTTP + GraphQL + PostgreSQL) on a fresh database and a free port, and
// captures its log lines so tests can check what was (and was not) logged.
import { Writable } from "node:stream";
import type { AwsCallMiddleware } from "../../src/aws/clients.js";
import { loadConfig } from "../../src/config/config.js";
import { startServer, type RunningServer } from "../../src/server/app.js";
import { createTestDatabase } from "./database.js";
import { GraphQLClient } from "./graphql-client.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  databaseUrl: string;
  adminToken: string;
  /** A client authenticated as the bootstrap admin. */
  admin: GraphQLClient;
  /** A client with the given token (or none). */
  client(token?: string): GraphQLClient;
  logs: string[];
  close(): Promise<void>;
}

export const TEST_ADMIN_TOKEN = "bh_test-admin-token-0123456789abcdefghijklmnop";

export interface TestServerOptions {
  /** Sees every AWS call the server makes (tests record them). */
  awsMiddleware?: AwsCallMiddleware;
}

/**
 * `reuseDatabaseUrl`: start on an existing database (e.g. a restart); it is not dropped on close.
 * To stop a server and keep its own database for a restart, call `server.close()` (not `close()`).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  reuseDatabaseUrl?: string,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const database = reuseDatabaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = reuseDatabaseUrl ?? database!.url;
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      callback();
    },
  });
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: "info",
    DATA_DIR: ".data/test",
    ...env,
  });
  const server = await startServer(config, { logDestination, awsMiddleware: options.awsMiddleware });
  const client = (token?: string) => new GraphQLClient(server.url, token);
  return {
    server,
    url: server.url,
    databaseUrl,
    adminToken: TEST_ADMIN_TOKEN,
    admin: client(TEST_ADMIN_TOKEN),
    client,
    logs,
    async close() {
      await server.close();
      await database?.drop();
    },
  };
}

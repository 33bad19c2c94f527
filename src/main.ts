// `npm start`: serve the API until SIGINT/SIGTERM.
import module from "node:module";
import path from "node:path";
import { ConfigError, loadConfig } from "./config/config.js";
import { preStart } from "./server/pre-start.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // PostgreSQL starts and is migrated while the server's modules load (most of a start's time).
  const preStarted = preStart(config);
  // V8's compiled code for the server's modules, kept in DATA_DIR across starts (Node >= 22.1;
  // a no-op before). Node checks each entry against its source, so a stale one is never used.
  module.enableCompileCache?.(path.join(config.dataDir, "compile-cache"));
  const { startServer } = await preStarted.timeline.time("import", () => import("./server/app.js")).catch(async (error: unknown) => {
    // The embedded PostgreSQL is running by now, or soon: stop it before exiting.
    await preStarted.database.then((database) => database.embedded?.stop(), () => undefined);
    throw error;
  });
  const server = await startServer(config, { preStarted });
  module.flushCompileCache?.();
  server.logger.info({ url: server.url }, "backend-hub is serving");
  process.stdout.write(`\nbackend-hub is serving GraphQL at ${server.url}\n`);
  if (server.adminToken) {
    process.stdout.write(
      config.ADMIN_TOKEN
        ? "Created the admin user with the token from ADMIN_TOKEN.\n"
        : `Created the admin user. Its API token (shown only this once):\n\n  ${server.adminToken}\n\n` +
            `Use it as: curl -H 'Authorization: Bearer <token>' -H 'content-type: application/json' -d '{"query":"{ me { name } }"}' ${server.url}\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (error) => {
        server.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error) => {
  process.stderr.write(`backend-hub failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

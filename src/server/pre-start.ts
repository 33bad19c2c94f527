// The first part of a start, which needs none of the server's heavy modules: the logger, the
// timeline, and the database (the embedded PostgreSQL started, then migrated). main.ts runs it
// before importing server/app.ts, so PostgreSQL starts in its own process and the migrations are
// checked while those modules load, most of a start's time; startServer() runs it itself when
// not given one.
import type { Config } from "../config/config.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded-postgres.js";
import { migrate } from "../db/migrate.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { StartupTimeline } from "./startup-timeline.js";

export interface ReadyDatabase {
  url: string;
  /** The embedded PostgreSQL, when DATABASE_URL is not set; the server stops it when it closes. */
  embedded?: EmbeddedDatabase;
  /** Migrations this start applied. */
  applied: string[];
}

export interface PreStart {
  logger: Logger;
  timeline: StartupTimeline;
  /** Settles once the database is up and migrated; already handled, so it may be awaited late. */
  database: Promise<ReadyDatabase>;
}

export function preStart(config: Config, logDestination?: NodeJS.WritableStream): PreStart {
  const timeline = new StartupTimeline();
  const logger = createLogger(config.LOG_LEVEL, logDestination);
  const database = (async () => {
    let embedded: EmbeddedDatabase | undefined;
    const url = config.DATABASE_URL ?? (embedded = await timeline.time("embeddedDatabase", () => startEmbeddedPostgres(config.dataDir, logger))).url;
    try {
      const { applied } = await timeline.time("migrate", () => migrate(url));
      return { url, embedded, applied };
    } catch (error) {
      await embedded?.stop();
      throw error;
    }
  })();
  // A failure surfaces where the database is awaited, perhaps after the server's modules loaded:
  // not an unhandled rejection meanwhile.
  database.catch(() => undefined);
  return { logger, timeline, database };
}

// `npm run audit:verify`: checks the audit log's hash chain and names the first broken link.
// Exit status 0: intact; 1: broken; 2: could not check. Reads DATABASE_URL; without it, opens the
// embedded database under DATA_DIR (only while the server is stopped: the cluster is locked).
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { AuditStore } from "../audit/audit-store.js";
import { loadConfig } from "../config/config.js";
import { startEmbeddedPostgres } from "../db/embedded-postgres.js";
import { openDatabase } from "../db/prisma.js";
import { createLogger } from "../logging/logger.js";

/** Verifies the chain in the database at `databaseUrl`; the text says what an operator needs. */
export async function verifyAuditLog(databaseUrl: string): Promise<{ intact: boolean; text: string }> {
  const database = openDatabase(databaseUrl, 2);
  try {
    const report = await new AuditStore(database).verify();
    const from = `from position ${report.start.seq}${report.start.seq > 0n ? " (the anchor left by retention pruning)" : ""}`;
    if (report.broken) {
      const { eventId, seq, problem } = report.broken;
      return {
        intact: false,
        text: `audit chain BROKEN at position ${seq} (event ${eventId}): ${problem}.\n${report.checkedEvents} event(s) checked ${from}; the last good one is position ${report.head.seq}.\n`,
      };
    }
    return {
      intact: true,
      text: `audit chain intact: ${report.checkedEvents} event(s) checked ${from}.\nhead: position ${report.head.seq}, hash ${report.head.hash}\n`,
    };
  } finally {
    await database.close();
  }
}

async function main(): Promise<number> {
  const config = loadConfig();
  let url = config.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    if (!existsSync(path.join(config.dataDir, "postgres", "PG_VERSION"))) {
      process.stderr.write(`No DATABASE_URL, and no embedded database under ${config.dataDir}.\n`);
      return 2;
    }
    const embedded = await startEmbeddedPostgres(config.dataDir, createLogger("warn"));
    ({ url, stop } = embedded);
  }
  try {
    const { intact, text } = await verifyAuditLog(url);
    process.stdout.write(text);
    return intact ? 0 : 1;
  } finally {
    await stop?.();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`audit:verify could not check the chain: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}

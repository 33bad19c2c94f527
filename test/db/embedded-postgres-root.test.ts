// The embedded PostgreSQL as root with DATA_DIR inside a folder others cannot enter (a project in
// /root, mode 0700). PostgreSQL runs as the postgres user there, and initdb used to fail with
// "could not access directory … Permission denied". These tests start real clusters in a private
// temp tree; they need root (this machine and CI run as root) and are skipped otherwise.
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fallbackFolder, LOCATION_NOTE } from "../../src/db/cluster-location.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded-postgres.js";
import { createLogger } from "../../src/logging/logger.js";

const asRoot = process.getuid?.() === 0;

async function query(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A logger whose JSON lines are kept, to check what the operator is told. */
function capturingLogger() {
  const lines: any[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger("info", destination), lines };
}

describe.skipIf(!asRoot)("embedded PostgreSQL as root under a private folder", () => {
  let base: string;
  /** Mode 0700, like /root: the postgres user cannot enter it. */
  let privateHome: string;
  /** Stands in for /var/lib/backend-hub, so the test leaves nothing behind on the machine. */
  let fallbackRoot: string;
  const started: EmbeddedDatabase[] = [];

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "bh-root-pg-"));
    await chmod(base, 0o755);
    privateHome = path.join(base, "root");
    await mkdir(privateHome, { mode: 0o700 });
    await chmod(privateHome, 0o700);
    fallbackRoot = path.join(base, "var-lib-backend-hub");
  });
  afterAll(async () => {
    for (const cluster of started) await cluster.stop().catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });

  async function start(dataDir: string, logger = createLogger("error"), root = fallbackRoot) {
    const cluster = await startEmbeddedPostgres(dataDir, logger, undefined, root);
    started.push(cluster);
    return cluster;
  }

  it("starts with DATA_DIR inside the private folder, keeps the cluster where postgres can reach it and says where", { timeout: 120_000 }, async () => {
    const dataDir = path.join(privateHome, "project", ".data");
    const { logger, lines } = capturingLogger();
    const cluster = await start(dataDir, logger);
    await query(cluster.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives a restart')");

    const clusterDir = path.join(fallbackFolder(dataDir, fallbackRoot), "postgres");
    expect((await stat(path.join(clusterDir, "PG_VERSION"))).isFile()).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, dataDir, clusterDir, blockedBy: privateHome }));
    expect(lines.find((l) => l.level === 40).msg).toContain(`cannot enter ${privateHome}`);
    const note = await readFile(path.join(dataDir, LOCATION_NOTE), "utf8");
    expect(note).toContain(clusterDir);
    expect(note).toContain(privateHome);
    // The private folder was left as it was.
    expect((await stat(privateHome)).mode & 0o777).toBe(0o700);

    // The next start finds the same cluster, with its data.
    await cluster.stop();
    started.pop();
    const again = await start(dataDir);
    expect(await query(again.url, "SELECT v FROM kept")).toEqual([{ v: "survives a restart" }]);
    await again.stop();
    started.pop();
  });

  it("a cluster already in DATA_DIR that the folder now blocks: stops at once naming DATA_DIR, the folder and the fix", { timeout: 120_000 }, async () => {
    const home = path.join(base, "home-later-private");
    await mkdir(home, { mode: 0o755 });
    await chmod(home, 0o755);
    const dataDir = path.join(home, "project", ".data");
    const cluster = await start(dataDir);
    await query(cluster.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('in DATA_DIR')");
    await cluster.stop();
    started.pop();

    await chmod(home, 0o700);
    const error = await start(dataDir).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe("ClusterUnreachableError");
    expect(error?.message).toContain(`DATA_DIR (${dataDir})`);
    expect(error?.message).toContain(`cannot enter ${home} (mode 0700)`);
    expect(error?.message).toContain(`chmod o+x ${home}`);
    expect(error?.message).toContain("DATABASE_URL");

    // Following the advice works, and the data is there.
    await chmod(home, 0o701);
    const fixed = await start(dataDir);
    expect(await query(fixed.url, "SELECT v FROM kept")).toEqual([{ v: "in DATA_DIR" }]);
    await fixed.stop();
    started.pop();
  });

  it("when the fallback folder is out of reach too, stops at once naming both", async () => {
    const dataDir = path.join(privateHome, "other", ".data");
    const blockedRoot = path.join(privateHome, "fallback");
    const error = await start(dataDir, undefined, blockedRoot).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe("ClusterUnreachableError");
    expect(error?.message).toContain(`DATA_DIR (${dataDir})`);
    expect(error?.message).toContain(`Nor in ${fallbackFolder(dataDir, blockedRoot)}`);
    expect(error?.message).toContain(`cannot enter ${privateHome} (mode 0700)`);
  });
});

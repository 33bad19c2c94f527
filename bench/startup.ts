// 5b) Start-up: from spawning `node dist/src/main.js` to /readyz answering 200, on a new embedded
// database (initdb, first start, migrations, first admin) and on an existing one.
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ADMIN_TOKEN, ENCRYPTION_KEYS, freePort, median, QUICK, ROOT, round, startChild, waitFor200 } from "./lib.js";

export interface StartupResult {
  newDatabaseMs: number;
  existingDatabaseMs: number;
  existingRuns: number[];
  /** For comparison: the same with DATABASE_URL pointing at a running PostgreSQL. */
  externalDatabaseMs: number;
  /** Time to import modules in a fresh process (median of 3): the whole server, and its heaviest dependencies alone. */
  imports: { module: string; ms: number; rssMiB: number }[];
}

/** Import time and the resident memory it adds, in a fresh process (median of 3). */
function importCost(specifier: string): { ms: number; rssMiB: number } {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 3; i++) {
    const script = `const r = process.memoryUsage().rss; const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify([performance.now() - t, process.memoryUsage().rss - r]));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
    const [ms, bytes] = JSON.parse(run.stdout) as [number, number];
    times.push(ms);
    rss.push(bytes / 1024 ** 2);
  }
  return { ms: round(median(times), 0), rssMiB: round(median(rss), 0) };
}

async function startOnce(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = startChild(path.join(ROOT, "dist/src/main.js"), { PORT: String(port), HOST: "127.0.0.1", ADMIN_TOKEN, ENCRYPTION_KEYS, LOG_LEVEL: "info", ...env });
  try {
    return await waitFor200(`http://127.0.0.1:${port}/readyz`, started, 180_000, child);
  } finally {
    await child.stop();
  }
}

export async function startup(externalDatabaseUrl: string, log: (line: string) => void): Promise<StartupResult> {
  const dataDir = path.join(ROOT, `.data/bench-startup-${process.pid}`);
  await rm(dataDir, { recursive: true, force: true });
  try {
    // DATABASE_URL="" hides any inherited value: the server starts its own embedded PostgreSQL.
    const embedded = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const newDatabaseMs = await startOnce(embedded);
    const existingRuns: number[] = [];
    for (let i = 0; i < (QUICK ? 1 : 3); i++) existingRuns.push(round(await startOnce(embedded), 0));
    const external: number[] = [];
    for (let i = 0; i < (QUICK ? 1 : 3); i++) external.push(await startOnce({ DATA_DIR: dataDir, DATABASE_URL: externalDatabaseUrl }));
    const imports = [
      { module: "dist/src/server/app.js (the whole server)", ...importCost(pathToFileURL(path.join(ROOT, "dist/src/server/app.js")).href) },
      ...["@aws-sdk/client-ec2", "type-graphql", "@apollo/server", "@prisma/client/runtime/client"].map((module) => ({ module, ...importCost(module) })),
    ];
    const result = {
      newDatabaseMs: round(newDatabaseMs, 0),
      existingDatabaseMs: round(median(existingRuns), 0),
      existingRuns,
      externalDatabaseMs: round(median(external), 0),
      imports,
    };
    log(`  new embedded database: ${result.newDatabaseMs} ms; existing: ${result.existingDatabaseMs} ms (runs ${existingRuns.join(", ")}); external PostgreSQL: ${result.externalDatabaseMs} ms`);
    log(`  module imports: ${imports.map((item) => `${item.module} ${item.ms} ms, +${item.rssMiB} MiB`).join("; ")}`);
    return result;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

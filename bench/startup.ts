// 5b) Start-up: from spawning `node dist/src/main.js` to /readyz answering 200, on a new embedded
// database (initdb, first start, migrations, first admin) and on an existing one, with the
// server's own timeline of the existing-database starts (the "listening" log line: each phase's
// start and end since the process began).
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ADMIN_TOKEN, ENCRYPTION_KEYS, freePort, median, QUICK, ROOT, round, startChild, waitFor200, type Child } from "./lib.js";
import type { StartupPhase } from "../src/server/startup-timeline.js";

export interface StartupResult {
  newDatabaseMs: number;
  existingDatabaseMs: number;
  existingRuns: number[];
  /** Phases of the existing-database starts (median start and end, ms since the process began), in the order they began. */
  existingTimeline: StartupPhase[];
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

/** The server, with stdout kept (its log holds the start-up timeline). */
const startServer = (env: Record<string, string>): Child => startChild(path.join(ROOT, "dist/src/main.js"), env, [], { keepStdout: true });

interface Start {
  ms: number;
  phases: StartupPhase[];
}

async function startOnce(env: Record<string, string>): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = startServer({ PORT: String(port), HOST: "127.0.0.1", ADMIN_TOKEN, ENCRYPTION_KEYS, LOG_LEVEL: "info", ...env });
  // The server logs JSON lines to stdout; one of them carries the timeline.
  let phases: StartupPhase[] = [];
  let pending = "";
  child.process.stdout!.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes('"startup"')) continue;
      try {
        phases = (JSON.parse(line) as { startup: { phases: StartupPhase[] } }).startup.phases;
      } catch {
        // not the timeline
      }
    }
  });
  try {
    return { ms: await waitFor200(`http://127.0.0.1:${port}/readyz`, started, 180_000, child), phases };
  } finally {
    await child.stop();
  }
}

/** Each phase's median start and end over `runs`, in the order the phases began. */
function medianTimeline(runs: StartupPhase[][]): StartupPhase[] {
  const names = [...new Set(runs.flatMap((phases) => phases.map((p) => p.phase)))];
  return names
    .map((phase) => {
      const seen = runs.flatMap((phases) => phases.filter((p) => p.phase === phase));
      return { phase, startMs: round(median(seen.map((p) => p.startMs)), 0), endMs: round(median(seen.map((p) => p.endMs)), 0) };
    })
    .sort((a, b) => a.startMs - b.startMs);
}

export async function startup(externalDatabaseUrl: string, log: (line: string) => void): Promise<StartupResult> {
  const dataDir = path.join(ROOT, `.data/bench-startup-${process.pid}`);
  await rm(dataDir, { recursive: true, force: true });
  try {
    // DATABASE_URL="" hides any inherited value: the server starts its own embedded PostgreSQL.
    const embedded = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const newDatabaseMs = (await startOnce(embedded)).ms;
    const existing: Start[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) existing.push(await startOnce(embedded));
    const existingRuns = existing.map((start) => round(start.ms, 0));
    const existingTimeline = medianTimeline(existing.map((start) => start.phases));
    const external: number[] = [];
    for (let i = 0; i < (QUICK ? 1 : 3); i++) external.push((await startOnce({ DATA_DIR: dataDir, DATABASE_URL: externalDatabaseUrl })).ms);
    const imports = [
      { module: "dist/src/server/app.js (the whole server)", ...importCost(pathToFileURL(path.join(ROOT, "dist/src/server/app.js")).href) },
      ...["@aws-sdk/client-ec2", "type-graphql", "@apollo/server", "@prisma/client/runtime/client"].map((module) => ({ module, ...importCost(module) })),
    ];
    const result = {
      newDatabaseMs: round(newDatabaseMs, 0),
      existingDatabaseMs: round(median(existingRuns), 0),
      existingRuns,
      existingTimeline,
      externalDatabaseMs: round(median(external), 0),
      imports,
    };
    log(`  new embedded database: ${result.newDatabaseMs} ms; existing: ${result.existingDatabaseMs} ms (runs ${existingRuns.join(", ")}); external PostgreSQL: ${result.externalDatabaseMs} ms`);
    log(`  existing database, timeline (median ms since the process began): ${existingTimeline.map((p) => `${p.phase} ${p.startMs}–${p.endMs}`).join(", ")}`);
    log(`  module imports: ${imports.map((item) => `${item.module} ${item.ms} ms, +${item.rssMiB} MiB`).join("; ")}`);
    return result;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

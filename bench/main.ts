// `npm run bench`: every benchmark of issue 7's Performance section and issue 12's scale goals, on
// this machine, printed and written to bench/results.md (BENCH_JSON=<path>: the headline figures as
// JSON too). Not part of `npm test`.
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { createLogger } from "../src/logging/logger.js";
import { discoveryLatency, provisioningCost, startMoto, type DiscoveryResult, type ProvisioningResult } from "./aws.js";
import { provisioningConcurrency, type ConcurrencyResult } from "./concurrency.js";
import { discoveryAtScale, type DiscoveryScaleResult } from "./discovery-scale.js";
import { instanceSyncAtScale, type SyncResult } from "./sync.js";
import { createDatabase, describeMachine, QUICK, ROOT, withDb, type Machine } from "./lib.js";
import { readPath, type ReadPathResult } from "./read-path.js";
import { figures } from "./figures.js";
import { renderReport } from "./report.js";
import { sqlCounts, type SqlCountsResult } from "./sql-counts.js";
import { startup, type StartupResult } from "./startup.js";

export interface BenchResults {
  date: string;
  quick: boolean;
  machine: Machine;
  readPath?: ReadPathResult;
  sqlCounts?: SqlCountsResult;
  discovery?: DiscoveryResult;
  provisioning?: ProvisioningResult;
  startup?: StartupResult;
  concurrency?: ConcurrencyResult;
  discoveryScale?: DiscoveryScaleResult;
  sync?: SyncResult;
  failures: string[];
}

export async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const only = process.env.BENCH_ONLY?.split(",");
  const wanted = (name: string) => !only || only.includes(name);
  const results: BenchResults = { date: new Date().toISOString(), quick: QUICK, machine: describeMachine(), failures: [] };
  log(`backend-hub benchmarks on ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}${QUICK ? " (BENCH_QUICK)" : ""}`);

  if (!process.env.MOTO_SERVER_BIN && existsSync(path.join(ROOT, ".moto-venv/bin/moto_server"))) process.env.MOTO_SERVER_BIN = path.join(ROOT, ".moto-venv/bin/moto_server");
  const dir = path.join(ROOT, `.data/bench-postgres-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  const cluster = await startEmbeddedPostgres(dir, createLogger("warn"));
  results.machine.postgres = await withDb(cluster.url, async (db) => (await db.query("SHOW server_version")).rows[0].server_version);
  let moto: Awaited<ReturnType<typeof startMoto>> | undefined;

  const section = async <T>(name: string, title: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!wanted(name)) return undefined;
    log(`\n${title}`);
    try {
      return await run();
    } catch (error) {
      const message = `${title}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      results.failures.push(message);
      log(`  FAILED: ${message}`);
      return undefined;
    }
  };

  try {
    // First, on a quiet machine: every phase of a start (the process's own boot included) came out
    // 15-40 % slower when measured after the load of the other sections.
    results.startup = await section("startup", "5) Start-up", async () => startup(await createDatabase(cluster.url, "bench_startup"), log));
    results.readPath = await section("read", "1) Read path against its floor", () => readPath(cluster.url, log));
    results.sqlCounts = await section("sql", "2) SQL statements for the nested projects page", () => sqlCounts(cluster.url, log));
    results.discovery = await section("discovery", "3) Discovery with 100 ms added to every AWS call", async () => {
      moto ??= await startMoto();
      return discoveryLatency(cluster.url, moto, log);
    });
    results.provisioning = await section("provisioning", "4) AWS calls of provisioning", async () => {
      moto ??= await startMoto();
      return provisioningCost(cluster.url, moto, log);
    });
    results.concurrency = await section("concurrency", "6) Provisioning runs at once, with 100 ms added to every AWS call", async () => {
      moto ??= await startMoto();
      return provisioningConcurrency(cluster.url, moto, log);
    });
    results.discoveryScale = await section("discovery-scale", "7) Discovery of an account with 300 buckets in 6 regions, 100 ms added to every AWS call", async () => {
      moto ??= await startMoto();
      return discoveryAtScale(cluster.url, moto, log, QUICK ? 1 : 3);
    });
    results.sync = await section("sync", "8) One instance sync round over 2,000 instances", async () => {
      moto ??= await startMoto();
      return instanceSyncAtScale(cluster.url, moto, log);
    });
  } finally {
    await moto?.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }

  // BENCH_JSON=<path>: the headline figures (null for a section that did not run), written in every mode.
  if (process.env.BENCH_JSON) {
    await writeFile(path.resolve(process.env.BENCH_JSON), `${JSON.stringify(figures(results), null, 2)}\n`);
    log(`Figures written to ${process.env.BENCH_JSON}`);
  }
  const report = renderReport(results);
  if (!only) {
    await writeFile(path.join(ROOT, "bench/results.md"), report);
    log("\nWritten to bench/results.md");
  } else {
    log("\n(BENCH_ONLY set: bench/results.md left as it was)");
  }
  if (results.failures.length) process.exitCode = 1;
}

// 1) The read path against its floor, and 5a) memory: the full stack (`node dist/src/main.js`:
// Express 5 + Apollo Server 5 + type-graphql + Prisma 7) and a bare node:http + pg server running
// the same SQL, each in its own process, loaded by autocannon from a third process.
import { existsSync } from "node:fs";
import { copyFile, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { countSql } from "../test/hardening/sql-counter.js";
import { BARE_SQL } from "./bare-server.js";
import { readProfile, splitByLayer, type LayerShare } from "./cpu-profile.js";
import {
  ADMIN_TOKEN,
  cpuMs,
  createDatabase,
  ENCRYPTION_KEYS,
  freePort,
  gql,
  QUICK,
  ROOT,
  round,
  rssMiB,
  runLoad,
  sleep,
  startChild,
  startInProcess,
  waitFor200,
  withDb,
  type Child,
  type LoadResult,
} from "./lib.js";

export const READ_QUERY = "query($id: ID) { project(id: $id) { backends { edges { node { aws { region bucket } } } } } }";
const BACKENDS = 5;
const CONNECTIONS = 10;

export interface Measured extends LoadResult {
  /** CPU time the server process used per request during the measured run (robust to a busy machine). */
  cpuMsPerRequest: number;
  /** The machine's 1-minute load average after the run. */
  loadAverage: number;
}

export interface ReadPathResult {
  backends: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  sameSql: boolean;
  statements: number;
  sameResponse: boolean;
  responseBytes: number;
  full: Measured;
  bare: Measured;
  memory: { afterStartMiB: number; after10kMiB: number; after20kMiB: number; requests: number; non2xx: number };
  /** What the full stack's resident memory is made of after 20,000 requests (bench/memory-probe-preload.mjs). */
  nonHeap: { label: string; mib: number }[];
  /** The full stack's CPU under the same load, split by layer (a V8 CPU profile). */
  profile: LayerShare[];
  /** V8 heap in use after a full GC, for the same server in this process: flat means no leak. */
  heap: { startMiB: number; after10kMiB: number; after20kMiB: number };
}

/** Heap in use after full collections at start, after 10,000 and after 20,000 requests (an in-process server). */
async function heapAfterGc(databaseUrl: string, body: string, headers: Record<string, string>): Promise<ReadPathResult["heap"]> {
  v8.setFlagsFromString("--expose_gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const heapMiB = () => {
    gc();
    gc();
    return round(process.memoryUsage().heapUsed / 1024 ** 2);
  };
  const server = await startInProcess(databaseUrl, { LOG_LEVEL: "info" });
  try {
    await runLoad({ url: server.url, body, headers, connections: CONNECTIONS, amount: 200 });
    const startMiB = heapMiB();
    await runLoad({ url: server.url, body, headers, connections: CONNECTIONS, amount: 10_000 });
    const after10kMiB = heapMiB();
    await runLoad({ url: server.url, body, headers, connections: CONNECTIONS, amount: 10_000 });
    return { startMiB, after10kMiB, after20kMiB: heapMiB() };
  } finally {
    await server.close();
  }
}

/** A CPU profile of a full-stack process over `seconds` of load, after a warm-up, split by layer. */
async function profileByLayer(start: (args: string[], extraEnv: Record<string, string>) => Promise<{ child: Child; url: string }>, body: string, headers: Record<string, string>, seconds: number): Promise<LayerShare[]> {
  const file = path.join(os.tmpdir(), `backend-hub-read-path-${process.pid}.cpuprofile`);
  const { child, url } = await start(["--import", path.join(ROOT, "bench/cpu-profile-preload.mjs")], { CPU_PROFILE_OUT: file });
  try {
    await runLoad({ url, body, headers, connections: CONNECTIONS, duration: 1 });
    child.process.kill("SIGUSR2");
    await sleep(100);
    await runLoad({ url, body, headers, connections: CONNECTIONS, duration: seconds });
    await rm(file, { force: true });
    child.process.kill("SIGUSR2");
    for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
    await sleep(200); // the write is synchronous, but let it finish before reading
    // BENCH_CPU_PROFILE=<path> keeps the profile (open it in Chrome DevTools' Performance panel).
    if (process.env.BENCH_CPU_PROFILE) await copyFile(file, process.env.BENCH_CPU_PROFILE);
    return splitByLayer(await readProfile(file));
  } finally {
    await child.stop();
    await rm(file, { force: true });
  }
}

interface MemoryProbe {
  usage: NodeJS.MemoryUsage;
  heap: { malloced_memory: number; peak_malloced_memory: number };
  rssAnonKiB: number;
  rssFileKiB: number;
  threads: number;
  malloc: { heapKiB: number; arenaKiB: number; arenas: number };
}

/** Asks a process started with bench/memory-probe-preload.mjs what its memory is made of. */
async function memoryBreakdown(child: Child, file: string): Promise<ReadPathResult["nonHeap"]> {
  await rm(file, { force: true });
  child.process.kill("SIGWINCH");
  for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
  await sleep(100);
  const probe = JSON.parse(await readFile(file, "utf8")) as MemoryProbe;
  await rm(file, { force: true });
  const mib = (bytes: number) => round(bytes / 1024 ** 2);
  const { usage, malloc } = probe;
  const v8Heap = usage.heapTotal;
  const buffers = usage.arrayBuffers;
  const glibc = (malloc.heapKiB + malloc.arenaKiB) * 1024;
  const otherAnonymous = Math.max(0, probe.rssAnonKiB * 1024 - v8Heap - buffers - glibc);
  return [
    { label: "resident set (RSS)", mib: mib(usage.rss) },
    { label: `V8 heap, committed (in use: ${mib(usage.heapUsed)} MiB, most of the rest garbage not yet collected)`, mib: mib(v8Heap) },
    { label: "array buffers (Buffers, WebAssembly memory of Prisma's query compiler)", mib: mib(buffers) },
    { label: `native allocations: glibc's main heap`, mib: mib(malloc.heapKiB * 1024) },
    { label: `native allocations: ${malloc.arenas} glibc thread arenas (${probe.threads} threads)`, mib: mib(malloc.arenaKiB * 1024) },
    { label: "other anonymous memory (machine code of V8 and WebAssembly, stacks)", mib: mib(otherAnonymous) },
    { label: "file-backed: the node binary and shared libraries", mib: mib(probe.rssFileKiB * 1024) },
    { label: `V8's own malloc use now (peak since start: ${mib(probe.heap.peak_malloced_memory)} MiB)`, mib: mib(probe.heap.malloced_memory) },
  ];
}

async function seed(databaseUrl: string): Promise<{ projectId: string; statements: string[] }> {
  // One start in this process applies the migrations, creates the admin and records the SQL of one request.
  const server = await startInProcess(databaseUrl);
  try {
    const created = await gql(server.url, `mutation { createProject(input: { name: "read-path" }) { project { id } } }`);
    const projectId: string = created.createProject.project.id;
    await withDb(databaseUrl, (db) =>
      db.query(
        `INSERT INTO "Backend" (id, "projectId", name, "awsRegion", "awsBucket", "awsCredentialsMode", "updatedAt")
         SELECT gen_random_uuid(), $1, 'aws-' || n, 'eu-west-1', 'bench-bucket-' || n, 'DEFAULT', now() + n * interval '1 ms' FROM generate_series(1, $2::int) n`,
        [projectId, BACKENDS],
      ),
    );
    await gql(server.url, READ_QUERY, { id: projectId }); // lastUsedAt written now, not during the count
    const counter = countSql(server.database.pool);
    const { statements } = await counter.count(() => gql(server.url, READ_QUERY, { id: projectId }));
    counter.stop();
    return { projectId, statements };
  } finally {
    await server.close();
  }
}

async function post(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` }, body });
  return response.text();
}

export async function readPath(clusterUrl: string, log: (line: string) => void): Promise<ReadPathResult> {
  const databaseUrl = await createDatabase(clusterUrl, "bench_read");
  const { projectId, statements } = await seed(databaseUrl);
  const expected = [BARE_SQL.tokenViewer, BARE_SQL.projectAccess, BARE_SQL.backends];
  const sameSql = statements.length === expected.length && statements.every((sql, i) => sql === expected[i]);
  if (!sameSql) log(`  note: the full stack's SQL differs from the bare server's:\n${statements.join("\n")}`);

  const body = JSON.stringify({ query: READ_QUERY, variables: { id: projectId } });
  const headers = { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` };
  const serverEnv = (port: number) => ({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    ADMIN_TOKEN,
    ENCRYPTION_KEYS,
    DATA_DIR: path.join(ROOT, ".data/bench/server"),
    LOG_LEVEL: "info",
  });
  const warmupSeconds = QUICK ? 1 : 3;
  const durationSeconds = QUICK ? 3 : 10;

  const measure = async (name: string, url: string, server: Child): Promise<Measured> => {
    await runLoad({ url, body, headers, connections: CONNECTIONS, duration: warmupSeconds });
    const cpuBefore = cpuMs(server.pid);
    const result = await runLoad({ url, body, headers, connections: CONNECTIONS, duration: durationSeconds });
    const cpuMsPerRequest = round((cpuMs(server.pid) - cpuBefore) / Math.max(1, result.requestsTotal), 3);
    const loadAverage = round(os.loadavg()[0], 2);
    log(
      `  ${name}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${cpuMsPerRequest} CPU-ms/request (non-2xx ${result.non2xx}, errors ${result.errors}, load average ${loadAverage})`,
    );
    return { ...result, cpuMsPerRequest, loadAverage };
  };

  let full: Child | undefined;
  let bare: Child | undefined;
  try {
    const fullPort = await freePort();
    full = startChild(path.join(ROOT, "dist/src/main.js"), serverEnv(fullPort));
    await waitFor200(`http://127.0.0.1:${fullPort}/readyz`, performance.now(), 60_000, full);
    const barePort = await freePort();
    bare = startChild(path.join(ROOT, "dist/bench/bare-server.js"), { DATABASE_URL: databaseUrl, PORT: String(barePort) });
    const fullUrl = `http://127.0.0.1:${fullPort}/graphql`;
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    for (let i = 0; ; i++) {
      try {
        await post(bareUrl, body);
        break;
      } catch (error) {
        if (i > 200) throw error;
        await sleep(25);
      }
    }
    const fullResponse = await post(fullUrl, body);
    const bareResponse = await post(bareUrl, body);
    const sameResponse = fullResponse === bareResponse;
    if (!sameResponse) log(`  note: responses differ:\n  full: ${fullResponse}\n  bare: ${bareResponse}`);

    // One server under load at a time; the other is stopped.
    const fullResult = await measure("full stack", fullUrl, full);
    await full.stop();
    full = undefined;
    const bareResult = await measure("bare node:http + pg", bareUrl, bare);
    await bare.stop();
    bare = undefined;
    const r = (a: number, b: number) => round(a / b, 2);
    log(
      `  ratios: the floor serves ${r(bareResult.requestsPerSecond, fullResult.requestsPerSecond)}× the requests/s; full stack / floor: p50 ${r(fullResult.latency.p50, bareResult.latency.p50)}×, p99 ${r(fullResult.latency.p99, bareResult.latency.p99)}×, CPU per request ${r(fullResult.cpuMsPerRequest, bareResult.cpuMsPerRequest)}×`,
    );

    const startFull = async (args: string[], extraEnv: Record<string, string>) => {
      const port = await freePort();
      const child = startChild(path.join(ROOT, "dist/src/main.js"), { ...serverEnv(port), ...extraEnv }, args);
      await waitFor200(`http://127.0.0.1:${port}/readyz`, performance.now(), 60_000, child);
      return { child, url: `http://127.0.0.1:${port}/graphql` };
    };
    const profile = await profileByLayer(startFull, body, headers, QUICK ? 3 : 8);
    log(`  full stack CPU by layer: ${profile.map((share) => `${share.layer} ${share.percent} %`).join(", ")}`);

    // 5a) Memory: a fresh full-stack process, resident memory at start and after 10,000 and 20,000 requests.
    const memoryPort = await freePort();
    const probeFile = path.join(os.tmpdir(), `backend-hub-memory-${process.pid}.json`);
    full = startChild(path.join(ROOT, "dist/src/main.js"), { ...serverEnv(memoryPort), MEMORY_PROBE_OUT: probeFile }, ["--import", path.join(ROOT, "bench/memory-probe-preload.mjs")]);
    await waitFor200(`http://127.0.0.1:${memoryPort}/readyz`, performance.now(), 60_000, full);
    await sleep(500);
    const afterStartMiB = rssMiB(full.pid);
    const memoryUrl = `http://127.0.0.1:${memoryPort}/graphql`;
    const first = await runLoad({ url: memoryUrl, body, headers, connections: CONNECTIONS, amount: 10_000 });
    await sleep(500);
    const after10kMiB = rssMiB(full.pid);
    const second = await runLoad({ url: memoryUrl, body, headers, connections: CONNECTIONS, amount: 10_000 });
    await sleep(500);
    const after20kMiB = rssMiB(full.pid);
    log(`  memory: ${afterStartMiB} MiB after start, ${after10kMiB} MiB after 10,000 requests, ${after20kMiB} MiB after 20,000`);
    const nonHeap = await memoryBreakdown(full, probeFile);
    log(`  after 20,000: ${nonHeap.map((part) => `${part.label} ${part.mib} MiB`).join("; ")}`);
    await full.stop();
    full = undefined;
    const heap = await heapAfterGc(databaseUrl, body, headers);
    log(`  heap in use after full GC: ${heap.startMiB} MiB warm, ${heap.after10kMiB} MiB after 10,000 requests, ${heap.after20kMiB} MiB after 20,000`);

    return {
      backends: BACKENDS,
      connections: CONNECTIONS,
      warmupSeconds,
      durationSeconds,
      sameSql,
      statements: statements.length,
      sameResponse,
      responseBytes: Buffer.byteLength(fullResponse),
      full: fullResult,
      bare: bareResult,
      memory: { afterStartMiB, after10kMiB, after20kMiB, requests: first.requestsTotal + second.requestsTotal, non2xx: first.non2xx + second.non2xx },
      profile,
      nonHeap,
      heap,
    };
  } finally {
    await full?.stop();
    await bare?.stop();
  }
}

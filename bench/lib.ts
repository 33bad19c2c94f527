// Pieces the benchmarks share: child processes (servers under test and the load generator), the
// embedded PostgreSQL they use, in-process servers, and the machine's description.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { AwsCallMiddleware } from "../src/aws/clients.js";
import { loadConfig } from "../src/config/config.js";
import { startServer, type RunningServer } from "../src/server/app.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const QUICK = process.env.BENCH_QUICK === "1";
export const ADMIN_TOKEN = "bh_bench-admin-token-0123456789abcdefghijklmnopq";
export const ENCRYPTION_KEYS = `bench:${Buffer.alloc(32, 7).toString("base64")}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  process: ChildProcess;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `node <script>` with extra env; stdout (the JSON request log) is discarded unless `keepStdout`. */
export function startChild(script: string, env: Record<string, string>, args: string[] = [], options: { keepStdout?: boolean } = {}): Child {
  const child = spawn(process.execPath, [...args, script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", options.keepStdout ? "pipe" : "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls `url` until it answers 200; returns the milliseconds from `since`. */
export async function waitFor200(url: string, since: number, timeoutMs = 120_000, child?: Child): Promise<number> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (child && (child.process.exitCode !== null || child.process.signalCode !== null)) throw new Error(`${url}: the server exited: ${child.stderr()}`);
    if (performance.now() - since > timeoutMs) throw new Error(`${url} not ready after ${timeoutMs} ms: ${child?.stderr() ?? ""}`);
    await sleep(10);
  }
}

export interface LoadResult {
  requestsPerSecond: number;
  requestsTotal: number;
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  durationSeconds: number;
}

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  duration?: number;
  amount?: number;
}

/** autocannon in a child process (bench/load-worker.mjs). */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const worker = path.join(ROOT, "bench/load-worker.mjs");
  const config = { url: options.url, method: "POST", body: options.body, headers: options.headers, connections: options.connections, duration: options.duration, amount: options.amount };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, JSON.stringify(config)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`load worker failed (${code}): ${err}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!));
    });
  });
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round((kib / 1024) * 10) / 10;
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) are the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hz = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  return (ticks * 1000) / hz;
}

/** A database of its own on the benchmark's cluster. */
export async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const admin = new URL(clusterUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withDb<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const discard = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

/** The real server in this process (for statement counts, AWS call counts and latencies). */
export async function startInProcess(databaseUrl: string, env: Record<string, string> = {}, awsMiddleware?: AwsCallMiddleware): Promise<RunningServer> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN,
    ENCRYPTION_KEYS,
    LOG_LEVEL: "warn",
    DATA_DIR: path.join(ROOT, ".data/bench"),
    ...env,
  });
  return startServer(config, { logDestination: discard(), awsMiddleware });
}

/** GraphQL over HTTP; throws on any error. */
export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>, token = ADMIN_TOKEN): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  postgres?: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const lscpu = spawnSync("lscpu", [], { encoding: "utf8" });
  const model = /Model name:\s+(.+)/.exec(lscpu.stdout ?? "")?.[1]?.trim() ?? cpus[0]?.model ?? "unknown";
  return {
    cpu: model,
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
  };
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

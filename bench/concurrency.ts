// Provisioning concurrency: one replica (the in-process server, default PROVISIONING_CONCURRENCY),
// every AWS call 100 ms slower through the fault proxy. One backend's provisioning run, from
// `provisionBackend` to SUCCEEDED; then 20 backends' runs started together, until all SUCCEEDED.
// Goal (issue 12): time(20) / time(1) ≤ 2.
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import type { AwsCallRecord } from "../src/aws/clients.js";
import { awsIamPolicyDocument } from "../src/aws/iam-policy.js";
import { loadConfig } from "../src/config/config.js";
import type { MotoServer } from "../test/support/moto.js";
import { createBucket, createIamUser } from "../test/support/moto-iam.js";
import { startProxyProcess, wallClock, type ProxiedCall } from "./proxy-process.js";
import { cpuMs, createDatabase, gql, round, sleep, startInProcess, withDb } from "./lib.js";

const LATENCY_MS = 100;
const READ_OPERATION = /^(Get|List|Describe|Head|Simulate|Lookup|Search)/;
const CONCURRENT = 20;
const PROVISION = `mutation($id: ID!) { provisionBackend(id: $id) { run { id } userErrors { code message } } }`;
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`;
const CREATE_BACKEND = `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code message } } }`;

export interface RunOutcome {
  status: string;
  /** From provisionBackend's answer to the run's end, as the benchmark saw it. */
  ms: number;
  /** Created → started (waiting for a worker), from the run's own timestamps. */
  queuedMs: number;
  error: string | null;
}

export interface ConcurrencyBatch {
  runs: number;
  /** provisionBackend of the first run to the last run SUCCEEDED (or FAILED). */
  ms: number;
  outcomes: Record<string, number>;
  /** Slowest step on average (name → mean ms), from the steps' own timestamps. */
  stepMeanMs: Record<string, number>;
  queuedMsMax: number;
  awsCalls: number;
  /** The most AWS requests the proxy had open at once. */
  maxInFlight: number;
  /** Mean time of one AWS request at the proxy, less the added latency: moto's own time. */
  awsMeanMs: number;
  /** CPU used during the batch by this process (server and benchmark; the proxy has its own) and by moto. */
  cpuMs: { node: number; moto: number | null };
  /** Share of the batch's wall time with no AWS request open at the proxy (our own time). */
  idleShare: number;
  /** AWS calls that create or change something, by operation. */
  writes: Record<string, number>;
  /** The distinct numbers of resources recorded per backend (one number: every backend has as many). */
  resourcesPerBackend: number[];
  errors: string[];
}

export interface ConcurrencyResult {
  latencyMs: number;
  concurrency: number;
  one: ConcurrencyBatch;
  twenty: ConcurrencyBatch;
  /** time(20) / time(1): the goal is ≤ 2. */
  concurrent20Ratio: number;
  /** Each write made 20 times as often as by the lone run, and every backend holds as many recorded resources: each resource created once. */
  createdOnce: boolean;
}

export function maxInFlight(requests: ProxiedCall[]): number {
  const events: [number, number][] = [];
  for (const request of requests) {
    events.push([request.startedAt, 1]);
    events.push([request.endedAt ?? Number.POSITIVE_INFINITY, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) max = Math.max(max, (open += delta));
  return max;
}

/** moto_server's process id, from /proc (the harness does not expose it). */
export function findMotoPid(port: number): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      // Not the shell wrapper test/support/moto.ts starts it under.
      if (args[0] !== "sh" && args.some((arg) => arg.includes("moto_server")) && args.includes(String(port))) return Number(entry);
    } catch {
      // gone
    }
  }
  return null;
}

/** Fraction of [from, to] during which no request was open. */
function idleShare(requests: ProxiedCall[], from: number, to: number): number {
  const spans = requests.map((r) => [r.startedAt, r.endedAt ?? to] as const).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let end = from;
  for (const [start, stop] of spans) {
    if (stop <= end) continue;
    covered += stop - Math.max(start, end);
    end = stop;
  }
  return to > from ? 1 - covered / (to - from) : 0;
}

export async function provisioningConcurrency(clusterUrl: string, moto: MotoServer, log: (line: string) => void): Promise<ConcurrencyResult> {
  await moto.reset();
  // The proxy runs in a process of its own: it stands in for the network, not for our CPU.
  const proxy = await startProxyProcess(moto.endpoint);
  const databaseUrl = await createDatabase(clusterUrl, "bench_concurrency");
  const calls: (AwsCallRecord & { at: number })[] = [];
  const server = await startInProcess(
    databaseUrl,
    // No background AWS work (instance sync, reconciliation) in the timed window.
    { AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "100000", INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" },
    (call) => void calls.push({ ...call, at: performance.now() }),
  );
  const motoPid = findMotoPid(moto.port);
  const concurrency = loadConfig({}).PROVISIONING_CONCURRENCY; // the default: startInProcess does not set it
  try {
    // Set-up without added latency: 21 buckets, IAM users holding the seed's policy, backends.
    const backends: { id: string; bucket: string }[] = [];
    for (let i = 0; i <= CONCURRENT; i++) {
      const bucket = `bench-concurrency-${String(i).padStart(2, "0")}`;
      await createBucket(moto.endpoint, bucket, "us-east-1");
      const keys = await createIamUser(moto.endpoint, { userName: `dstack-${bucket}`, policy: awsIamPolicyDocument(bucket) });
      const project = await gql(server.url, CREATE_PROJECT, { input: { name: `concurrency-${i}` } });
      const created = await gql(server.url, CREATE_BACKEND, {
        projectId: project.createProject.project.id,
        input: { region: "us-east-1", bucket, credentials: { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } },
      });
      if (created.createAwsBackend.userErrors.length) throw new Error(JSON.stringify(created.createAwsBackend.userErrors));
      backends.push({ id: created.createAwsBackend.backend.id, bucket });
    }
    await proxy.addLatency(LATENCY_MS);

    const batch = async (label: string, chosen: { id: string; bucket: string }[]): Promise<ConcurrencyBatch> => {
      await proxy.clearRequests();
      calls.length = 0;
      const motoCpuBefore = motoPid ? cpuMs(motoPid) : 0;
      const nodeCpuBefore = process.cpuUsage();
      const started = performance.now();
      const startedWall = wallClock();
      const runIds = await Promise.all(
        chosen.map(async ({ id }) => {
          const { provisionBackend } = await gql(server.url, PROVISION, { id });
          if (provisionBackend.userErrors.length) throw new Error(JSON.stringify(provisionBackend.userErrors));
          return provisionBackend.run.id as string;
        }),
      );
      const endedAt = new Map<string, number>();
      await withDb(databaseUrl, async (db) => {
        for (;;) {
          const { rows } = await db.query<{ id: string; status: string }>(`SELECT id, status::text FROM "ProvisioningRun" WHERE id = ANY($1::uuid[])`, [runIds]);
          const now = performance.now();
          for (const row of rows) if ((row.status === "SUCCEEDED" || row.status === "FAILED") && !endedAt.has(row.id)) endedAt.set(row.id, now - started);
          if (endedAt.size === runIds.length) break;
          if (now - started > 600_000) throw new Error(`${label}: ${runIds.length - endedAt.size} runs unfinished after 10 minutes`);
          await sleep(20);
        }
      });
      const ms = performance.now() - started;
      const nodeCpu = process.cpuUsage(nodeCpuBefore);
      const cpu = { node: round((nodeCpu.user + nodeCpu.system) / 1000, 0), moto: motoPid ? round(cpuMs(motoPid) - motoCpuBefore, 0) : null };
      const requests = await proxy.requests();
      const details = await withDb(databaseUrl, async (db) => {
        const runs = await db.query<{ id: string; status: string; error: string | null; queued: number }>(
          `SELECT id, status::text, error, EXTRACT(EPOCH FROM ("startedAt" - "createdAt")) * 1000 AS queued FROM "ProvisioningRun" WHERE id = ANY($1::uuid[])`,
          [runIds],
        );
        const steps = await db.query<{ name: string; ms: number }>(
          `SELECT name, avg(EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")) * 1000)::float AS ms FROM "ProvisioningStep" WHERE "runId" = ANY($1::uuid[]) GROUP BY name, position ORDER BY position`,
          [runIds],
        );
        return { runs: runs.rows, steps: steps.rows };
      });
      const outcomes: Record<string, number> = {};
      for (const run of details.runs) outcomes[run.status] = (outcomes[run.status] ?? 0) + 1;
      // The calls that create or change something, by operation.
      const writes: Record<string, number> = {};
      for (const call of calls) if (!READ_OPERATION.test(call.operation)) writes[`${call.service}:${call.operation}`] = (writes[`${call.service}:${call.operation}`] ?? 0) + 1;
      const resources = await withDb(databaseUrl, async (db) =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "BackendResource" WHERE "backendId" = ANY($1::uuid[]) GROUP BY "backendId"`, [chosen.map(({ id }) => id)])).rows.map((row) => row.n),
      );
      const result: ConcurrencyBatch = {
        runs: runIds.length,
        ms: round(ms, 0),
        outcomes,
        stepMeanMs: Object.fromEntries(details.steps.map((step) => [step.name, round(step.ms, 0)])),
        queuedMsMax: round(Math.max(...details.runs.map((run) => Number(run.queued))), 0),
        awsCalls: calls.length,
        maxInFlight: maxInFlight(requests),
        cpuMs: cpu,
        awsMeanMs: round(requests.reduce((sum, r) => sum + (r.endedAt ?? r.startedAt) - r.startedAt - LATENCY_MS, 0) / Math.max(1, requests.length), 0),
        idleShare: round(idleShare(requests, startedWall, startedWall + ms), 2),
        writes,
        resourcesPerBackend: [...new Set(resources)],
        errors: details.runs.filter((run) => run.error).map((run) => run.error!),
      };
      log(
        `  ${label}: ${result.ms} ms, ${JSON.stringify(outcomes)}, ${result.awsCalls} AWS calls (at most ${result.maxInFlight} in flight, moto's mean ${result.awsMeanMs} ms each, no call open ${Math.round(result.idleShare * 100)} % of the time; CPU ms: node ${cpu.node}, moto ${cpu.moto}), longest wait for a worker ${result.queuedMsMax} ms; steps (mean ms) ${JSON.stringify(result.stepMeanMs)}`,
      );
      return result;
    };

    const one = await batch("1 backend", backends.slice(0, 1));
    // BENCH_CONCURRENCY_PROFILE=<file>: a V8 CPU profile of this process during the 20 runs.
    const profileFile = process.env.BENCH_CONCURRENCY_PROFILE;
    const session = profileFile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    const twenty = await batch(`${CONCURRENT} backends at once`, backends.slice(1));
    if (session && profileFile) {
      const { profile } = await session.post("Profiler.stop");
      await writeFile(profileFile, JSON.stringify(profile));
      session.disconnect();
    }
    const concurrent20Ratio = round(twenty.ms / one.ms, 2);
    log(`  time(${CONCURRENT}) / time(1) = ${concurrent20Ratio} (goal ≤ 2)`);
    const operations = new Set([...Object.keys(one.writes), ...Object.keys(twenty.writes)]);
    const createdOnce =
      [...operations].every((operation) => (twenty.writes[operation] ?? 0) === CONCURRENT * (one.writes[operation] ?? 0)) &&
      twenty.resourcesPerBackend.length === 1 &&
      twenty.resourcesPerBackend[0] === one.resourcesPerBackend[0];
    log(`  each resource created once (the lone run's writes × ${CONCURRENT}, the same resources recorded per backend): ${createdOnce ? "yes" : "NO"}`);
    return { latencyMs: LATENCY_MS, concurrency, one, twenty, concurrent20Ratio, createdOnce };
  } finally {
    await server.close();
    await proxy.stop();
  }
}

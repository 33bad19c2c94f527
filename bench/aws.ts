// 3) Discovery latency behind a proxy that adds 100 ms to every AWS call, and 4) the AWS calls of
// a fresh provisioning and of a repeated one on a READY backend. moto plays AWS.
import { awsIamPolicyDocument } from "../src/aws/iam-policy.js";
import type { AwsCallRecord } from "../src/aws/clients.js";
import { on, startFaultProxy, type ProxiedRequest } from "../test/support/fault-proxy.js";
import { startMoto, type MotoServer } from "../test/support/moto.js";
import { createBucket, createIamUser, createSubnet, policy } from "../test/support/moto-iam.js";
import { createDatabase, gql, median, round, sleep, startInProcess } from "./lib.js";

const LATENCY_MS = 100;
const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) {
  identity { arn } buckets { name region } subnets { id public } userErrors { code field message } } }`;

export interface DiscoveryCase {
  name: string;
  awsRequests: number;
  /** Median time with the added latency. */
  ms: number;
  /** Median time through the same proxy without added latency (moto's own time and ours). */
  baseMs: number;
  /** ms / 100: what the issue asks for. */
  rounds: number;
  /** (ms - baseMs) / 100: the rounds the added latency cost, i.e. the calls that had to wait for one another. */
  latencyRounds: number;
  /** The longest chain of requests that did not overlap, from the proxy's timestamps. */
  longestChain: number;
  userErrors: string[];
}

export interface DiscoveryResult {
  latencyMs: number;
  buckets: number;
  cases: DiscoveryCase[];
}

/** Longest chain of requests that could not overlap (each started after the previous ended). */
function criticalPath(requests: ProxiedRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.startedAt - b.startedAt);
  const depth = new Map<ProxiedRequest, number>();
  for (const request of sorted) {
    let best = 0;
    for (const before of sorted) {
      if (before.endedAt !== null && before.endedAt <= request.startedAt) best = Math.max(best, depth.get(before) ?? 0);
    }
    depth.set(request, best + 1);
  }
  return Math.max(0, ...depth.values());
}

export async function discoveryLatency(clusterUrl: string, moto: MotoServer, log: (line: string) => void): Promise<DiscoveryResult> {
  await moto.reset();
  const keys = await createIamUser(moto.endpoint, { userName: "bench-discovery", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
  const buckets = ["bench-east", "bench-west", "bench-tokyo", "bench-frankfurt", "bench-sydney"];
  const regions = ["us-east-1", "eu-west-1", "ap-northeast-1", "eu-central-1", "ap-southeast-2"];
  for (let i = 0; i < buckets.length; i++) await createBucket(moto.endpoint, buckets[i], regions[i]);
  const subnet = await createSubnet(moto.endpoint, "eu-west-1", { cidr: "10.30.0.0/16", name: "bench", public: true });
  const elsewhere = await createSubnet(moto.endpoint, "eu-central-1", { cidr: "10.31.0.0/16", name: "elsewhere" });

  const proxy = await startFaultProxy(moto.endpoint);
  const databaseUrl = await createDatabase(clusterUrl, "bench_discovery");
  const server = await startInProcess(databaseUrl, { AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "100000" });
  const credentials = { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey };
  const cases: [string, object][] = [
    ["complete form (region, bucket, subnet in the region)", { credentials, region: "eu-west-1", bucket: "bench-west", subnetId: subnet.subnetId }],
    ["bucket in another region", { credentials, region: "eu-west-1", bucket: "bench-tokyo", subnetId: subnet.subnetId }],
    ["subnet in another region (looked up across regions)", { credentials, region: "eu-west-1", bucket: "bench-west", subnetId: elsewhere.subnetId }],
    ["credentials only", { credentials }],
  ];
  const results: DiscoveryCase[] = [];
  try {
    await gql(server.url, DISCOVER, { input: cases[0][1] }); // SDK clients created, connections open
    const timed = async (input: object) => {
      const times: number[] = [];
      let requests: ProxiedRequest[] = [];
      let userErrors: string[] = [];
      for (let i = 0; i < 5; i++) {
        proxy.clearRequests();
        const started = performance.now();
        const data = await gql(server.url, DISCOVER, { input });
        times.push(performance.now() - started);
        requests = [...proxy.requests];
        userErrors = data.discoverAwsBackend.userErrors.map((error: { code: string }) => error.code);
      }
      return { ms: median(times), requests, userErrors };
    };
    for (const [name, input] of cases) {
      proxy.clearRules();
      await gql(server.url, DISCOVER, { input }); // every region's client exists before timing
      const base = await timed(input);
      proxy.addRule({ match: on.any(), fault: { kind: "latency", ms: LATENCY_MS } });
      const { ms, requests, userErrors } = await timed(input);
      const result: DiscoveryCase = {
        name,
        awsRequests: requests.length,
        ms: round(ms, 0),
        baseMs: round(base.ms, 0),
        rounds: round(ms / LATENCY_MS),
        latencyRounds: round((ms - base.ms) / LATENCY_MS),
        longestChain: criticalPath(requests),
        userErrors,
      };
      results.push(result);
      log(
        `  ${name}: ${result.ms} ms = ${result.rounds} × ${LATENCY_MS} ms for ${result.awsRequests} AWS requests; without the added latency ${result.baseMs} ms, so the latency cost ${result.latencyRounds} rounds (longest chain ${result.longestChain})`,
      );
    }
  } finally {
    await server.close();
    await proxy.stop();
  }
  return { latencyMs: LATENCY_MS, buckets: buckets.length, cases: results };
}

export interface ProvisioningCost {
  reads: number;
  writes: number;
  byOperation: Record<string, number>;
  ms: number;
  status: string;
}

export interface ProvisioningResult {
  fresh: ProvisioningCost;
  repeated: ProvisioningCost;
}

const READ_OPERATION = /^(Get|List|Describe|Head|Simulate|Lookup|Search)/;
const RUN = `query($id: ID!) { provisioningRun(id: $id) { status error steps { name status } } }`;
const PROVISION = `mutation($id: ID!) { provisionBackend(id: $id) { run { id } userErrors { code message } } }`;

export async function provisioningCost(clusterUrl: string, moto: MotoServer, log: (line: string) => void): Promise<ProvisioningResult> {
  await moto.reset();
  const bucket = "bench-provisioning";
  await createBucket(moto.endpoint, bucket, "us-east-1");
  const keys = await createIamUser(moto.endpoint, { userName: `dstack-${bucket}`, policy: awsIamPolicyDocument(bucket) });
  const calls: AwsCallRecord[] = [];
  let recording = false;
  const databaseUrl = await createDatabase(clusterUrl, "bench_provisioning");
  const server = await startInProcess(databaseUrl, { AWS_ENDPOINT_URL: moto.endpoint }, (call) => {
    if (recording) calls.push(call);
  });
  try {
    const project = await gql(server.url, `mutation { createProject(input: { name: "provisioning" }) { project { id } } }`);
    const created = await gql(
      server.url,
      `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code message } } }`,
      { projectId: project.createProject.project.id, input: { region: "us-east-1", bucket, credentials: { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } } },
    );
    const backendId: string = created.createAwsBackend.backend.id;

    const provision = async (label: string): Promise<ProvisioningCost> => {
      calls.length = 0;
      recording = true;
      const started = performance.now();
      const { provisionBackend } = await gql(server.url, PROVISION, { id: backendId });
      if (provisionBackend.userErrors.length) throw new Error(JSON.stringify(provisionBackend.userErrors));
      let run;
      for (;;) {
        run = (await gql(server.url, RUN, { id: provisionBackend.run.id })).provisioningRun;
        if (run.status === "SUCCEEDED" || run.status === "FAILED") break;
        await sleep(50);
      }
      const ms = performance.now() - started;
      recording = false;
      const byOperation: Record<string, number> = {};
      for (const call of calls) byOperation[`${call.service}:${call.operation}`] = (byOperation[`${call.service}:${call.operation}`] ?? 0) + 1;
      const reads = calls.filter((call) => READ_OPERATION.test(call.operation)).length;
      const cost = { reads, writes: calls.length - reads, byOperation, ms: round(ms, 0), status: run.status };
      log(`  ${label}: ${cost.reads} reads + ${cost.writes} writes (${run.status}, ${cost.ms} ms)`);
      return cost;
    };
    const fresh = await provision("fresh provisioning");
    const repeated = await provision("repeated on READY");
    return { fresh, repeated };
  } finally {
    await server.close();
  }
}

export { startMoto };

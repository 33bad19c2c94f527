// Discovery at scale: an account with 300 buckets in 6 regions (moto), `discoverAwsBackend` with
// only its access keys, every AWS call 100 ms slower through the proxy. Goal (issue 12): time /
// 100 ms ≤ 4, with the calls in flight bounded and no throttling.
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import pMap from "p-map";
import type { MotoServer } from "../test/support/moto.js";
import { createIamUser, policy } from "../test/support/moto-iam.js";
import { maxInFlight } from "./concurrency.js";
import { createDatabase, gql, median, round, startInProcess } from "./lib.js";
import { startProxyProcess, wallClock, type ProxiedCall } from "./proxy-process.js";

const LATENCY_MS = 100;
const BUCKETS = 300;
const REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-2"];
const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) {
  identity { arn } buckets { name region } subnets { id } userErrors { code field message } } }`;

export interface DiscoveryScaleResult {
  latencyMs: number;
  buckets: number;
  regions: number;
  /** Median time of the discovery with the added latency, and without it (moto's time and ours). */
  ms: number;
  baseMs: number;
  /** ms / 100 ms: the goal is ≤ 4. */
  rounds300Buckets: number;
  awsRequests: number;
  byOperation: Record<string, number>;
  /** The most AWS requests the proxy had open at once. */
  maxInFlight: number;
  /** Answers with HTTP 429 or 503 (throttling: S3's SlowDown, EC2's RequestLimitExceeded); none expected. */
  throttled: number;
  /** Any answer with HTTP 400 or above. */
  failed: number;
  /** Buckets the answer placed in their right region. */
  bucketsPlaced: number;
  userErrors: string[];
  runs: number;
  /** The last run's AWS requests: action, region, start–end in ms from the mutation's start. */
  timeline: string;
}

export async function discoveryAtScale(clusterUrl: string, moto: MotoServer, log: (line: string) => void, runs = 3): Promise<DiscoveryScaleResult> {
  await moto.reset();
  const keys = await createIamUser(moto.endpoint, { userName: "bench-discovery-scale", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
  const expected = new Map<string, string>();
  const clients = new Map(REGIONS.map((region) => [region, new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } })]));
  const setUpStarted = performance.now();
  await pMap(
    Array.from({ length: BUCKETS }, (_, i) => i),
    async (i) => {
      const region = REGIONS[i % REGIONS.length];
      const bucket = `bench-scale-${String(i).padStart(3, "0")}-${region}`;
      expected.set(bucket, region);
      await clients.get(region)!.send(
        new CreateBucketCommand({ Bucket: bucket, ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }),
      );
    },
    { concurrency: 8 },
  );
  for (const client of clients.values()) client.destroy();
  log(`  set-up: ${BUCKETS} buckets in ${REGIONS.length} regions in ${round((performance.now() - setUpStarted) / 1000)} s`);

  const proxy = await startProxyProcess(moto.endpoint);
  const databaseUrl = await createDatabase(clusterUrl, "bench_discovery_scale");
  const server = await startInProcess(databaseUrl, { AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "100000", INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" });
  const input = { credentials: { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } };
  try {
    const timed = async () => {
      const times: number[] = [];
      let requests: ProxiedCall[] = [];
      let answer: any;
      let timeline = "";
      for (let i = 0; i < runs; i++) {
        await proxy.clearRequests();
        const started = performance.now();
        const startedWall = wallClock();
        answer = (await gql(server.url, DISCOVER, { input })).discoverAwsBackend;
        times.push(performance.now() - started);
        requests = await proxy.requests();
        timeline = requests
          .map((request) => `${request.action}${request.region === "us-east-1" ? "" : `@${request.region}`} ${Math.round(request.startedAt - startedWall)}–${Math.round((request.endedAt ?? 0) - startedWall)}`)
          .join(", ");
      }
      return { ms: median(times), requests, answer, timeline };
    };
    await gql(server.url, DISCOVER, { input }); // every region's client exists, connections open
    const base = await timed();
    await proxy.addLatency(LATENCY_MS);
    const { ms, requests, answer, timeline } = await timed();
    const byOperation: Record<string, number> = {};
    for (const request of requests) {
      const name = `${request.service}:${request.action}`;
      byOperation[name] = (byOperation[name] ?? 0) + 1;
    }
    const placed = (answer.buckets as { name: string; region: string | null }[]).filter((bucket) => expected.get(bucket.name) === bucket.region).length;
    const result: DiscoveryScaleResult = {
      latencyMs: LATENCY_MS,
      buckets: BUCKETS,
      regions: REGIONS.length,
      ms: round(ms, 0),
      baseMs: round(base.ms, 0),
      rounds300Buckets: round(ms / LATENCY_MS, 1),
      awsRequests: requests.length,
      byOperation,
      maxInFlight: maxInFlight(requests),
      throttled: requests.filter((request) => request.status === 429 || request.status === 503).length,
      failed: requests.filter((request) => (request.status ?? 0) >= 400).length,
      bucketsPlaced: placed,
      userErrors: (answer.userErrors as { code: string }[]).map((error) => error.code),
      runs,
      timeline,
    };
    log(
      `  ${BUCKETS} buckets: ${result.ms} ms = ${result.rounds300Buckets} × ${LATENCY_MS} ms (without the added latency ${result.baseMs} ms), ${result.awsRequests} AWS requests ${JSON.stringify(byOperation)}, at most ${result.maxInFlight} in flight, ${result.throttled} throttled (${result.failed} answers ≥ 400), ${placed}/${BUCKETS} buckets in the right region, userErrors ${result.userErrors.join(", ") || "none"}`,
    );
    log(`  the last run's AWS requests (ms from the mutation's start): ${timeline}`);
    return result;
  } finally {
    await server.close();
    await proxy.stop();
  }
}

// An account with many buckets, on an endpoint that leaves BucketRegion out of ListBuckets (moto
// does, as older S3-compatible endpoints do): discovery places them with one filtered listing per
// enabled region, all in one round, rather than one GetBucketLocation per bucket; only buckets no
// listing placed cost a GetBucketLocation. Requests are read from the fault proxy in front of moto.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCATION_CONCURRENCY } from "../../src/aws/bucket-regions.js";
import { createAwsClientFactory, type AwsClientFactory, type AwsCredentialSource } from "../../src/aws/clients.js";
import { listBucketsWithRegions } from "../../src/aws/discovery.js";
import { DEFAULT_ENABLED_REGIONS } from "../../src/aws/regions.js";
import { on, startFaultProxy, type FaultProxy, type ProxiedRequest } from "../support/fault-proxy.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { createBucket } from "../support/moto-iam.js";

const DUMMY: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
const REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"];
/** More buckets than enabled regions (listing per region is the cheaper way), and over LOCATION_CONCURRENCY per region. */
const MANY = 36;

let moto: MotoServer;
let proxy: FaultProxy;
let aws: AwsClientFactory;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  aws = createAwsClientFactory({ endpoint: proxy.endpoint, maxAttempts: 1 });
});
afterAll(async () => {
  aws?.destroy();
  await proxy?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.clearRules();
  proxy.clearRequests();
});

/** `count` buckets spread over REGIONS; returns name → region. */
async function bucketsIn(count: number, extra: Record<string, string> = {}): Promise<Map<string, string>> {
  const expected = new Map<string, string>(Object.entries(extra));
  for (let i = 0; i < count; i++) expected.set(`many-${String(i).padStart(2, "0")}`, REGIONS[i % REGIONS.length]);
  await Promise.all([...expected].map(([name, region]) => createBucket(moto.endpoint, name, region)));
  proxy.clearRequests();
  return expected;
}

const regionFilter = (request: ProxiedRequest) => new URL(request.path, "http://proxy").searchParams.get("bucket-region");
const listings = () => proxy.requests.filter((r) => r.action === "ListBuckets");

describe("many buckets, no BucketRegion in the listing", () => {
  it("one filtered listing per enabled region, in one round, and no GetBucketLocation", async () => {
    const expected = await bucketsIn(MANY);
    // Slowed down, so "sent before any was answered" does not depend on how fast moto answers.
    proxy.addRule({ match: on.any(), fault: { kind: "latency", ms: 300 } });
    const result = await listBucketsWithRegions({ factory: aws, credentials: DUMMY });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(new Map(result.value.buckets.map((b) => [b.name, b.region]))).toEqual(expected);
    expect(result.value.locationErrors).toEqual([]);

    expect(proxy.requests.filter((r) => r.action === "GetBucketLocation")).toEqual([]);
    const [unfiltered, ...byRegion] = listings();
    expect(regionFilter(unfiltered)).toBeNull();
    expect(byRegion.map(regionFilter).sort()).toEqual([...DEFAULT_ENABLED_REGIONS].sort());
    // One round: every region's listing was sent before any of them was answered.
    expect(Math.max(...byRegion.map((r) => r.startedAt))).toBeLessThan(Math.min(...byRegion.map((r) => r.endedAt!)));
  });

  it("a bucket in an opt-in region, which no listing covers, is located with GetBucketLocation", async () => {
    const expected = await bucketsIn(MANY, { "far-away": "af-south-1" });
    const result = await listBucketsWithRegions({ factory: aws, credentials: DUMMY });
    expect(result.ok && new Map(result.value.buckets.map((b) => [b.name, b.region]))).toEqual(expected);
    expect(proxy.requests.filter((r) => r.action === "GetBucketLocation").map((r) => r.bucket)).toEqual(["far-away"]);
  });

  it("a region whose listing fails: its buckets are located one by one, at most LOCATION_CONCURRENCY at a time", async () => {
    const expected = await bucketsIn(MANY);
    proxy.addRule({ match: (r) => r.action === "ListBuckets" && regionFilter(r) === "eu-west-1", fault: { kind: "serverError" } });
    const result = await listBucketsWithRegions({ factory: aws, credentials: DUMMY });
    expect(result.ok && new Map(result.value.buckets.map((b) => [b.name, b.region]))).toEqual(expected);
    const located = proxy.requests.filter((r) => r.action === "GetBucketLocation");
    expect(located.map((r) => r.bucket).sort()).toEqual([...expected].filter(([, region]) => region === "eu-west-1").map(([name]) => name));
    const inFlight = (at: number) => located.filter((r) => r.startedAt <= at && at < r.endedAt!).length;
    expect(Math.max(...located.map((r) => inFlight(r.startedAt)))).toBeLessThanOrEqual(LOCATION_CONCURRENCY);
  });

  it("few buckets: one GetBucketLocation each, no region listings", async () => {
    const expected = await bucketsIn(3);
    const result = await listBucketsWithRegions({ factory: aws, credentials: DUMMY });
    expect(result.ok && new Map(result.value.buckets.map((b) => [b.name, b.region]))).toEqual(expected);
    expect(listings()).toHaveLength(1);
    expect(proxy.requests.filter((r) => r.action === "GetBucketLocation")).toHaveLength(3);
  });
});

// Offers against moto_server: its static instance type data (1263 types, GPUs included), its fixed
// spot prices (0.00001 in every zone), and no Price List API at all (HTTP 500), which must give a
// null on-demand price, never a made-up one.
import { describe, expect, it } from "vitest";
import {
  listInstanceOffers,
  listPricedOffers,
  lowestSpotPrices,
  OfferCache,
  onDemandPrices,
  PRICING_REGION,
} from "../../src/aws/compute/offers.js";
import { useAwsSession, useMoto } from "../support/fixtures.js";

const REGION = "eu-west-1";
const moto = useMoto();
// maxAttempts 1: moto's Price List 500s would otherwise be retried with backoff in every test.
const { calls, session } = useAwsSession(moto, { maxAttempts: 1 });

// moto's instance types are static (a reset keeps them), so the filter tests share one listing.
const shared = { cache: new OfferCache() };
const count = (operation: string) => calls.filter((c) => c.operation === operation).length;

describe("listInstanceOffers", () => {
  it("maps vCPUs, memory, GPUs and spot support", async () => {
    const all = await listInstanceOffers(session, REGION, {}, shared);
    expect(all.ok).toBe(true);
    if (!all.ok) return;
    expect(all.value.length).toBeGreaterThan(500);
    expect(all.value.find((o) => o.instanceType === "g4dn.12xlarge")).toEqual({
      instanceType: "g4dn.12xlarge",
      vcpus: 48,
      memoryMiB: 196608,
      gpus: [{ name: "T4", manufacturer: "NVIDIA", memoryMiB: 16384, count: 4 }],
      spotSupported: true,
      onDemandSupported: true,
      architectures: ["x86_64"],
    });
  });

  it("filters by vCPUs and memory", async () => {
    const result = await listInstanceOffers(session, REGION, { minVcpus: 16, minMemoryMiB: 131072 }, shared);
    expect(result.ok && result.value.length).toBeGreaterThan(10);
    if (!result.ok) return;
    expect(result.value.every((o) => o.vcpus >= 16 && o.memoryMiB >= 131072)).toBe(true);
    expect(result.value.map((o) => o.instanceType)).toContain("r5.4xlarge");
    expect(result.value.map((o) => o.instanceType)).not.toContain("m5.2xlarge"); // 8 vCPUs
  });

  it("filters by GPU name (any case) and count", async () => {
    const t4 = await listInstanceOffers(session, REGION, { gpuName: "t4" }, shared);
    const names = t4.ok ? t4.value.map((o) => o.instanceType) : [];
    expect(names).toEqual(expect.arrayContaining(["g4dn.xlarge", "g4dn.12xlarge"]));
    expect(names).not.toContain("p3.2xlarge"); // V100
    expect(names).not.toContain("m5.large");
    expect(t4.ok && t4.value.every((o) => o.gpus.some((g) => g.name === "T4"))).toBe(true);

    const fourT4 = await listInstanceOffers(session, REGION, { gpuName: "T4", minGpuCount: 4 }, shared);
    const fours = fourT4.ok ? fourT4.value.map((o) => o.instanceType) : [];
    expect(fours).toContain("g4dn.12xlarge");
    expect(fours).not.toContain("g4dn.xlarge");

    const anyEight = await listInstanceOffers(session, REGION, { minGpuCount: 8 }, shared);
    expect(anyEight.ok && anyEight.value.every((o) => o.gpus.reduce((n, g) => n + g.count, 0) >= 8)).toBe(true);
    expect(anyEight.ok && anyEight.value.map((o) => o.instanceType)).toContain("g4dn.metal");
  });

  it("filters by spot support and architecture", async () => {
    const spot = await listInstanceOffers(session, REGION, { spot: true }, shared);
    expect(spot.ok && spot.value.every((o) => o.spotSupported)).toBe(true);
    const all = await listInstanceOffers(session, REGION, {}, shared);
    const noSpot = all.ok ? all.value.filter((o) => !o.spotSupported).map((o) => o.instanceType) : [];
    expect(spot.ok && spot.value.some((o) => noSpot.includes(o.instanceType))).toBe(false);

    const x86 = await listInstanceOffers(session, REGION, { architecture: "x86_64" }, shared);
    const x86Names = x86.ok ? x86.value.map((o) => o.instanceType) : [];
    expect(x86Names).toContain("m5.large");
    expect(x86Names).not.toContain("m6g.large"); // Graviton
  });

  it("reads the types once per hour with a cache", async () => {
    let now = 1_000_000; // a clock like performance.now(): lru-cache reads 0 as "no time"
    const cache = new OfferCache({ now: () => now });
    await listInstanceOffers(session, REGION, { minVcpus: 4 }, { cache });
    await listInstanceOffers(session, REGION, { gpuName: "T4" }, { cache });
    expect(count("DescribeInstanceTypes")).toBe(1);
    now += 61 * 60_000;
    await listInstanceOffers(session, REGION, {}, { cache });
    expect(count("DescribeInstanceTypes")).toBe(2);
    // Other credentials or another region: another entry.
    await listInstanceOffers({ ...session, credentials: { mode: "ACCESS_KEY", accessKeyId: "other", secretAccessKey: "x" } }, REGION, {}, { cache });
    expect(count("DescribeInstanceTypes")).toBe(3);
  });
});

describe("prices", () => {
  it("spot: the lowest current price across the region's zones, from moto", async () => {
    const result = await lowestSpotPrices(session, REGION, ["g4dn.xlarge", "m5.large"]);
    expect(result).toEqual({
      ok: true,
      value: new Map([
        ["g4dn.xlarge", 0.00001],
        ["m5.large", 0.00001],
      ]),
    });
    expect(calls).toEqual([expect.objectContaining({ operation: "DescribeSpotPriceHistory", action: "ec2:DescribeSpotPriceHistory" })]);
  });

  it("spot: batched per 50 types, and cached for five minutes per type", async () => {
    const all = await listInstanceOffers(session, REGION, { spot: true, architecture: "x86_64", minVcpus: 2 }, shared);
    const types = all.ok ? all.value.slice(0, 120).map((o) => o.instanceType) : [];
    expect(types).toHaveLength(120);
    let now = 1_000_000; // a clock like performance.now(): lru-cache reads 0 as "no time"
    const cache = new OfferCache({ now: () => now });
    calls.length = 0;
    const first = await lowestSpotPrices(session, REGION, types, { cache });
    expect(first.ok && first.value.size).toBe(120);
    expect(count("DescribeSpotPriceHistory")).toBe(3);
    await lowestSpotPrices(session, REGION, types.slice(0, 10), { cache });
    expect(count("DescribeSpotPriceHistory")).toBe(3);
    now += 6 * 60_000;
    await lowestSpotPrices(session, REGION, types.slice(0, 10), { cache });
    expect(count("DescribeSpotPriceHistory")).toBe(4);
  });

  it("on-demand: null under moto (no Price List API), with the reason, never a number", async () => {
    const result = await onDemandPrices(session, REGION, ["m5.large"]);
    expect(result.prices).toBeNull();
    expect(result.failure).toMatchObject({ service: "pricing", operation: "GetProducts", action: "pricing:GetProducts" });
    const pricingCall = calls.find((c) => c.operation === "GetProducts");
    expect(pricingCall).toMatchObject({ region: PRICING_REGION });
  });

  it("on-demand: a failure is remembered for five minutes, not retried on every call", async () => {
    let now = 1_000_000; // a clock like performance.now(): lru-cache reads 0 as "no time"
    const cache = new OfferCache({ now: () => now });
    await onDemandPrices(session, REGION, ["m5.large"], { cache });
    await onDemandPrices(session, REGION, ["c5.large"], { cache });
    expect(count("GetProducts")).toBe(1);
    now += 5 * 60_000 + 1;
    await onDemandPrices(session, REGION, ["m5.large"], { cache });
    expect(count("GetProducts")).toBe(2);
  });
});

describe("listPricedOffers", () => {
  it("gives filtered offers with spot prices and null on-demand prices, sorted by price then size", async () => {
    const result = await listPricedOffers(session, REGION, { gpuName: "T4", spot: true }, { cache: new OfferCache() });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { offers, spotPriceFailure, onDemandPriceFailure } = result.value;
    expect(spotPriceFailure).toBeNull();
    expect(onDemandPriceFailure).toMatchObject({ action: "pricing:GetProducts" });
    expect(offers.length).toBeGreaterThan(3);
    expect(offers.every((o) => o.spotPricePerHour === 0.00001 && o.onDemandPricePerHour === null && o.spotAvailable)).toBe(true);
    // Equal prices: smallest first.
    const sizes = offers.map((o) => o.vcpus);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(offers[0].instanceType).toBe("g4dn.xlarge");
  });
});

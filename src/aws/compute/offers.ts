// What can be launched in a region and at what price: instance types (DescribeInstanceTypes, all
// pages), the lowest current spot price across the region's zones (DescribeSpotPriceHistory), and
// on-demand prices from the AWS Price List API when the credentials allow pricing:GetProducts
// (not in the seed's policy). A price that cannot be read is null, never a guess.
import {
  paginateDescribeInstanceTypes,
  paginateDescribeSpotPriceHistory,
  type _InstanceType,
  type InstanceTypeInfo,
  type SpotPrice,
} from "@aws-sdk/client-ec2";
import { paginateGetProducts, type Filter as PricingFilter } from "@aws-sdk/client-pricing";
import pMap from "p-map";
import { AwsCache, awsCacheKey } from "../cache.js";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsFailure, type AwsResult } from "../errors.js";
import { allPages } from "../pagination.js";

export interface InstanceOfferFilter {
  minVcpus?: number | null;
  minMemoryMiB?: number | null;
  /** GPU model, e.g. "A10G", "T4" (case-insensitive). */
  gpuName?: string | null;
  /** Total GPUs (of `gpuName`, when given). */
  minGpuCount?: number | null;
  /** true: the type must support spot; false: on-demand; unset: either. */
  spot?: boolean | null;
  /** e.g. "x86_64" for the default Ubuntu amd64 image: an arm64 type could not boot it. */
  architecture?: string | null;
}

export interface Gpu {
  name: string;
  manufacturer: string | null;
  /** Memory of one GPU. */
  memoryMiB: number;
  count: number;
}

export interface InstanceOffer {
  instanceType: string;
  vcpus: number;
  memoryMiB: number;
  /** One entry per GPU model, with its count. */
  gpus: Gpu[];
  spotSupported: boolean;
  onDemandSupported: boolean;
  /** e.g. ["x86_64"], ["arm64"], ["i386", "x86_64"]. */
  architectures: string[];
}

export interface PricedOffer extends InstanceOffer {
  /** Lowest current spot price across the region's zones (USD/h), null when unknown. */
  spotPricePerHour: number | null;
  /** On-demand Linux price (USD/h), null when the Price List API is not available to these credentials. */
  onDemandPricePerHour: number | null;
  /** Supports spot and, when spot prices could be read, has a spot price in some zone of the region. */
  spotAvailable: boolean;
}

/** Caches shared by offer lookups; one per process is enough (entries are per region and credentials). */
export class OfferCache {
  readonly types: AwsCache<AwsResult<InstanceOffer[]>>;
  /** price null: the type has no spot price in the region. */
  readonly spotPrices: AwsCache<{ price: number | null }>;
  readonly onDemand: AwsCache<OnDemandPrices>;
  /** How long a failed on-demand price lookup is remembered before it is tried again. */
  readonly failureTtlMs: number;
  readonly typesTtlMs: number;
  readonly onDemandTtlMs: number;

  /** Defaults: types 1 h, spot prices 5 min, on-demand prices 1 h, failed price lookups 5 min. `now`: a test clock, never 0. */
  constructor(options: { typesTtlMs?: number; spotTtlMs?: number; onDemandTtlMs?: number; failureTtlMs?: number; now?: () => number } = {}) {
    this.typesTtlMs = options.typesTtlMs ?? 60 * 60_000;
    this.onDemandTtlMs = options.onDemandTtlMs ?? 60 * 60_000;
    this.failureTtlMs = options.failureTtlMs ?? 5 * 60_000;
    this.types = new AwsCache({ ttlMs: this.typesTtlMs, maxEntries: 500, now: options.now });
    this.spotPrices = new AwsCache({ ttlMs: options.spotTtlMs ?? 5 * 60_000, maxEntries: 200_000, now: options.now });
    this.onDemand = new AwsCache({ ttlMs: this.onDemandTtlMs, maxEntries: 500, now: options.now });
  }
}

function toOffer(info: InstanceTypeInfo): InstanceOffer | null {
  if (!info.InstanceType) return null;
  const usage = info.SupportedUsageClasses ?? [];
  return {
    instanceType: info.InstanceType,
    vcpus: info.VCpuInfo?.DefaultVCpus ?? 0,
    memoryMiB: info.MemoryInfo?.SizeInMiB ?? 0,
    gpus: (info.GpuInfo?.Gpus ?? []).map((gpu) => ({
      name: gpu.Name ?? "unknown",
      manufacturer: gpu.Manufacturer ?? null,
      memoryMiB: gpu.MemoryInfo?.SizeInMiB ?? 0,
      count: gpu.Count ?? 0,
    })),
    spotSupported: usage.includes("spot"),
    onDemandSupported: usage.includes("on-demand"),
    architectures: info.ProcessorInfo?.SupportedArchitectures ?? [],
  };
}

async function describeAllInstanceTypes(session: AwsSession, region: string): Promise<AwsResult<InstanceOffer[]>> {
  const ec2 = session.factory.client("ec2", region, session.credentials);
  return attempt("ec2", "DescribeInstanceTypes", async () => {
    const offers: InstanceOffer[] = [];
    for await (const page of paginateDescribeInstanceTypes({ client: ec2 }, { MaxResults: 100 })) {
      for (const info of page.InstanceTypes ?? []) {
        const offer = toOffer(info);
        if (offer) offers.push(offer);
      }
    }
    return offers;
  });
}

/** Whether an offer satisfies the filter. */
export function matchesOfferFilter(offer: InstanceOffer, filter: InstanceOfferFilter): boolean {
  if (filter.minVcpus != null && offer.vcpus < filter.minVcpus) return false;
  if (filter.minMemoryMiB != null && offer.memoryMiB < filter.minMemoryMiB) return false;
  if (filter.spot === true && !offer.spotSupported) return false;
  if (filter.spot === false && !offer.onDemandSupported) return false;
  if (filter.architecture && !offer.architectures.includes(filter.architecture)) return false;
  const wanted = filter.gpuName?.trim().toLowerCase();
  const gpus = wanted ? offer.gpus.filter((gpu) => gpu.name.toLowerCase() === wanted) : offer.gpus;
  const gpuCount = gpus.reduce((sum, gpu) => sum + gpu.count, 0);
  if (wanted && gpuCount === 0) return false;
  if (filter.minGpuCount != null && gpuCount < filter.minGpuCount) return false;
  return true;
}

/**
 * The region's instance types that satisfy `filter`. The full list is read once (all pages) and
 * cached per (region, credentials) for an hour when a cache is given; filtering is local, because
 * DescribeInstanceTypes filters match exact values only (no "at least 8 vCPUs").
 */
export async function listInstanceOffers(
  session: AwsSession,
  region: string,
  filter: InstanceOfferFilter = {},
  options: { cache?: OfferCache } = {},
): Promise<AwsResult<InstanceOffer[]>> {
  const cache = options.cache;
  const all = cache
    ? await cache.types.remember(awsCacheKey(region, session.credentials, "instance-types"), () => describeAllInstanceTypes(session, region), (r) =>
        r.ok ? cache.typesTtlMs : 0,
      )
    : await describeAllInstanceTypes(session, region);
  if (!all.ok) return all;
  return { ok: true, value: all.value.filter((offer) => matchesOfferFilter(offer, filter)) };
}

/** Spot price entries for Linux: "Linux/UNIX", or "Linux/UNIX (Amazon VPC)" from older APIs and moto. */
const LINUX_PRODUCT = /^Linux\/UNIX( \(Amazon VPC\))?$/;

/** From price history entries: the latest price per (type, zone), then the lowest over zones, per type. */
export function lowestCurrentPrices(history: readonly SpotPrice[]): Map<string, number> {
  const latest = new Map<string, { at: number; price: number }>();
  for (const entry of history) {
    if (!entry.InstanceType || !entry.AvailabilityZone || !entry.SpotPrice) continue;
    if (entry.ProductDescription && !LINUX_PRODUCT.test(entry.ProductDescription)) continue;
    const price = Number.parseFloat(entry.SpotPrice);
    if (!Number.isFinite(price) || price <= 0) continue;
    const at = entry.Timestamp ? new Date(entry.Timestamp).getTime() : 0;
    const key = `${entry.InstanceType}\0${entry.AvailabilityZone}`;
    const seen = latest.get(key);
    if (!seen || at > seen.at) latest.set(key, { at, price });
  }
  const lowest = new Map<string, number>();
  for (const [key, { price }] of latest) {
    const type = key.slice(0, key.indexOf("\0"));
    const current = lowest.get(type);
    if (current === undefined || price < current) lowest.set(type, price);
  }
  return lowest;
}

const SPOT_TYPES_PER_CALL = 50;

/**
 * The lowest current Linux spot price per instance type across the region's zones (USD/h).
 * Types without a price (no spot offering in the region) are absent from the map. With a cache,
 * each type's price (or its absence) is kept for five minutes and only missing types are asked for.
 */
export async function lowestSpotPrices(
  session: AwsSession,
  region: string,
  instanceTypes: readonly string[],
  options: { cache?: OfferCache; now?: () => Date } = {},
): Promise<AwsResult<Map<string, number>>> {
  const cache = options.cache;
  const keyOf = (type: string) => awsCacheKey(region, session.credentials, "spot", type);
  const result = new Map<string, number>();
  const missing: string[] = [];
  for (const type of new Set(instanceTypes)) {
    const cached = cache?.spotPrices.get(keyOf(type));
    if (cached === undefined) missing.push(type);
    else if (cached.price !== null) result.set(type, cached.price);
  }
  if (missing.length === 0) return { ok: true, value: result };

  const ec2 = session.factory.client("ec2", region, session.credentials);
  const chunks: string[][] = [];
  for (let i = 0; i < missing.length; i += SPOT_TYPES_PER_CALL) chunks.push(missing.slice(i, i + SPOT_TYPES_PER_CALL));
  const startTime = (options.now ?? (() => new Date()))();
  const pages = await pMap(chunks, (types) =>
    attempt("ec2", "DescribeSpotPriceHistory", async () => {
      const input = {
        // The SDK's type lists the types it knew when built; newer ones are plain strings too.
        InstanceTypes: types as _InstanceType[],
        ProductDescriptions: ["Linux/UNIX"],
        StartTime: startTime,
        MaxResults: 1000,
      };
      const history = await allPages(paginateDescribeSpotPriceHistory({ client: ec2 }, input), (page) => page.SpotPriceHistory);
      return { types, prices: lowestCurrentPrices(history) };
    }),
    { concurrency: 3 },
  );
  for (const page of pages) {
    if (!page.ok) return page;
    for (const type of page.value.types) {
      const price = page.value.prices.get(type) ?? null;
      cache?.spotPrices.set(keyOf(type), { price });
      if (price !== null) result.set(type, price);
    }
  }
  return { ok: true, value: result };
}

export interface OnDemandPrices {
  /** USD per hour by instance type; null when the Price List API could not be used. */
  prices: Map<string, number> | null;
  /** Why `prices` is null (usually pricing:GetProducts not granted, or no Price List API at this endpoint). */
  failure: AwsFailure | null;
}

/** The Price List API is served from us-east-1 (also eu-central-1 and ap-south-1) for every region. */
export const PRICING_REGION = "us-east-1";

/** GetProducts filters for plain on-demand Linux on shared tenancy in `region`. */
export function onDemandPriceFilters(region: string): PricingFilter[] {
  const match = (Field: string, Value: string): PricingFilter => ({ Type: "TERM_MATCH", Field, Value });
  return [
    match("regionCode", region),
    match("operatingSystem", "Linux"),
    match("tenancy", "Shared"),
    match("preInstalledSw", "NA"),
    match("capacitystatus", "Used"),
    match("licenseModel", "No License required"),
  ];
}

interface PriceListProduct {
  product?: { attributes?: { instanceType?: string } };
  terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }> };
}

/** Instance type → lowest positive hourly USD price found in the OnDemand terms of Price List items. */
export function parsePriceList(items: readonly unknown[]): Map<string, number> {
  const prices = new Map<string, number>();
  for (const item of items) {
    let product: PriceListProduct;
    try {
      product = JSON.parse(typeof item === "string" ? item : String(item)) as PriceListProduct;
    } catch {
      continue;
    }
    const type = product.product?.attributes?.instanceType;
    if (!type) continue;
    for (const term of Object.values(product.terms?.OnDemand ?? {})) {
      for (const dimension of Object.values(term.priceDimensions ?? {})) {
        if (!dimension.unit?.startsWith("Hrs")) continue;
        const price = Number.parseFloat(dimension.pricePerUnit?.USD ?? "");
        if (!Number.isFinite(price) || price <= 0) continue;
        const current = prices.get(type);
        if (current === undefined || price < current) prices.set(type, price);
      }
    }
  }
  return prices;
}

async function fetchOnDemandPrices(session: AwsSession, region: string): Promise<OnDemandPrices> {
  const pricing = session.factory.client("pricing", PRICING_REGION, session.credentials);
  const result = await attempt("pricing", "GetProducts", async () => {
    const input = { ServiceCode: "AmazonEC2", Filters: onDemandPriceFilters(region), FormatVersion: "aws_v1", MaxResults: 100 };
    const items = await allPages(paginateGetProducts({ client: pricing }, input), (page) => (Array.isArray(page.PriceList) ? (page.PriceList as unknown[]) : []));
    return parsePriceList(items);
  });
  return result.ok ? { prices: result.value, failure: null } : { prices: null, failure: result.error };
}

/**
 * On-demand Linux prices (USD/h) of `instanceTypes` in `region`, from the Price List API. The
 * region's whole list is read once and cached for an hour (a failure for five minutes). Types the
 * list does not price are absent from the map. `prices` is null when the API refused or failed
 * (AccessDenied without pricing:GetProducts; moto has no Price List API): never an invented number.
 */
export async function onDemandPrices(
  session: AwsSession,
  region: string,
  instanceTypes: readonly string[],
  options: { cache?: OfferCache } = {},
): Promise<OnDemandPrices> {
  const cache = options.cache;
  const all = cache
    ? await cache.onDemand.remember(awsCacheKey(region, session.credentials, "on-demand"), () => fetchOnDemandPrices(session, region), (r) =>
        r.prices ? cache.onDemandTtlMs : cache.failureTtlMs,
      )
    : await fetchOnDemandPrices(session, region);
  if (!all.prices) return all;
  const wanted = new Map<string, number>();
  for (const type of instanceTypes) {
    const price = all.prices.get(type);
    if (price !== undefined) wanted.set(type, price);
  }
  return { prices: wanted, failure: null };
}

const gpuCount = (offer: InstanceOffer) => offer.gpus.reduce((sum, gpu) => sum + gpu.count, 0);

/**
 * Offers with their prices, sorted by price (spot price when `spot` is true, on-demand otherwise;
 * unknown prices last), then by size (vCPUs, memory, GPUs), then by name.
 */
export function priceOffers(
  offers: readonly InstanceOffer[],
  spot: ReadonlyMap<string, number> | null,
  onDemand: ReadonlyMap<string, number> | null,
  options: { sortBy?: "SPOT" | "ON_DEMAND" } = {},
): PricedOffer[] {
  const priced = offers.map(
    (offer): PricedOffer => ({
      ...offer,
      spotPricePerHour: offer.spotSupported ? (spot?.get(offer.instanceType) ?? null) : null,
      onDemandPricePerHour: onDemand?.get(offer.instanceType) ?? null,
      spotAvailable: offer.spotSupported && (spot === null || spot.has(offer.instanceType)),
    }),
  );
  const priceOf = (offer: PricedOffer) => (options.sortBy === "SPOT" ? offer.spotPricePerHour : offer.onDemandPricePerHour);
  return priced.sort((a, b) => {
    const pa = priceOf(a);
    const pb = priceOf(b);
    if (pa !== pb) {
      if (pa === null) return 1;
      if (pb === null) return -1;
      return pa - pb;
    }
    return (
      a.vcpus - b.vcpus || a.memoryMiB - b.memoryMiB || gpuCount(a) - gpuCount(b) || (a.instanceType < b.instanceType ? -1 : a.instanceType > b.instanceType ? 1 : 0)
    );
  });
}

export interface PricedOfferListing {
  offers: PricedOffer[];
  /** Why spot prices are missing (e.g. ec2:DescribeSpotPriceHistory denied), or null. */
  spotPriceFailure: AwsFailure | null;
  /** Why on-demand prices are missing (e.g. pricing:GetProducts not granted), or null. */
  onDemandPriceFailure: AwsFailure | null;
}

/**
 * Everything `instanceOffers` needs: the filtered types with spot and on-demand prices, sorted.
 * Only the type listing can fail the call; a price that cannot be read is null with its reason.
 */
export async function listPricedOffers(
  session: AwsSession,
  region: string,
  filter: InstanceOfferFilter = {},
  options: { cache?: OfferCache } = {},
): Promise<AwsResult<PricedOfferListing>> {
  const offers = await listInstanceOffers(session, region, filter, options);
  if (!offers.ok) return offers;
  const types = offers.value.map((offer) => offer.instanceType);
  const spotTypes = offers.value.filter((offer) => offer.spotSupported).map((offer) => offer.instanceType);
  const [spot, onDemand] = await Promise.all([
    spotTypes.length > 0 ? lowestSpotPrices(session, region, spotTypes, options) : Promise.resolve({ ok: true as const, value: new Map<string, number>() }),
    types.length > 0 ? onDemandPrices(session, region, types, options) : Promise.resolve<OnDemandPrices>({ prices: new Map(), failure: null }),
  ]);
  return {
    ok: true,
    value: {
      offers: priceOffers(offers.value, spot.ok ? spot.value : null, onDemand.prices, { sortBy: filter.spot ? "SPOT" : "ON_DEMAND" }),
      spotPriceFailure: spot.ok ? null : spot.error,
      onDemandPriceFailure: onDemand.failure,
    },
  };
}

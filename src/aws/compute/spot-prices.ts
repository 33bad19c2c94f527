// The lowest current spot price per instance type across a region's zones
// (DescribeSpotPriceHistory, batched by type, a few batches at a time).
import type { _InstanceType, SpotPrice } from "@aws-sdk/client-ec2";
import pMap from "p-map";
import { awsCacheKey } from "../cache.js";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { allPages } from "../pagination.js";
import type { OfferCache } from "./offer-cache.js";
import { sdk } from "../sdk.js";

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

  const { paginateDescribeSpotPriceHistory } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
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

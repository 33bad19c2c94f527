// On-demand Linux prices from the AWS Price List API (GetProducts), when the credentials allow
// pricing:GetProducts (not in the seed's policy). A price that cannot be read is null, never a guess.
import type { Filter as PricingFilter } from "@aws-sdk/client-pricing";
import { awsCacheKey } from "../cache.js";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsFailure } from "../errors.js";
import { allPages } from "../pagination.js";
import type { OfferCache } from "./offer-cache.js";
import { sdk } from "../sdk.js";

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
  const { paginateGetProducts } = await sdk.pricing();
  const pricing = await session.factory.client("pricing", PRICING_REGION, session.credentials);
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

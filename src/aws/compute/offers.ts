// What can be launched in a region and at what price: instance types (instance-types.ts), the
// lowest current spot price across the region's zones (spot-prices.ts), and on-demand prices from
// the AWS Price List API (on-demand-prices.ts), put together and sorted. A price that cannot be
// read is null, never a guess.
import type { AwsSession } from "../discovery.js";
import type { AwsFailure, AwsResult } from "../errors.js";
import { listInstanceOffers, type InstanceOffer, type InstanceOfferFilter } from "./instance-types.js";
import type { OfferCache } from "./offer-cache.js";
import { onDemandPrices, type OnDemandPrices } from "./on-demand-prices.js";
import { lowestSpotPrices } from "./spot-prices.js";

export { listInstanceOffers, matchesOfferFilter, type Gpu, type InstanceOffer, type InstanceOfferFilter } from "./instance-types.js";
export { OfferCache } from "./offer-cache.js";
export { onDemandPriceFilters, onDemandPrices, parsePriceList, PRICING_REGION, type OnDemandPrices } from "./on-demand-prices.js";
export { lowestCurrentPrices, lowestSpotPrices } from "./spot-prices.js";

export interface PricedOffer extends InstanceOffer {
  /** Lowest current spot price across the region's zones (USD/h), null when unknown. */
  spotPricePerHour: number | null;
  /** On-demand Linux price (USD/h), null when the Price List API is not available to these credentials. */
  onDemandPricePerHour: number | null;
  /** Supports spot and, when spot prices could be read, has a spot price in some zone of the region. */
  spotAvailable: boolean;
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

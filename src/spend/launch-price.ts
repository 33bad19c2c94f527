// The price an instance is launched at: the lowest current spot price of its type in the region for
// spot (DescribeSpotPriceHistory, in the seed's policy), the on-demand Linux price from the Price List
// API for on-demand (pricing:GetProducts, beyond the seed's policy). A price that cannot be read is
// null with the reason, never a guess. Prices are cached per region and credentials.
import type { AwsSession } from "../aws/discovery.js";
import { lowestSpotPrices, onDemandPrices, OfferCache } from "../aws/compute/offers.js";
import type { InstanceMarket } from "../generated/prisma/enums.js";

export interface LaunchPrice {
  /** USD per hour, or null. */
  pricePerHour: number | null;
  /** Why the price is null (shown in the instance's statusReason). */
  unknownReason: string | null;
}

/** One cache per process: spot prices for five minutes, the region's on-demand list for an hour. */
const cache = new OfferCache();

export async function launchPrice(session: AwsSession, region: string, instanceType: string, market: InstanceMarket): Promise<LaunchPrice> {
  if (market === "SPOT") {
    const spot = await lowestSpotPrices(session, region, [instanceType], { cache });
    if (!spot.ok) return { pricePerHour: null, unknownReason: `Spot price unknown: ${spot.error.message}` };
    const price = spot.value.get(instanceType);
    return price === undefined
      ? { pricePerHour: null, unknownReason: `Spot price unknown: EC2 lists no current spot price for ${instanceType} in ${region}.` }
      : { pricePerHour: price, unknownReason: null };
  }
  const onDemand = await onDemandPrices(session, region, [instanceType], { cache });
  if (!onDemand.prices) {
    const why = onDemand.failure?.kind === "ACCESS_DENIED" ? "pricing:GetProducts is not granted." : (onDemand.failure?.message ?? "the Price List API failed.");
    return { pricePerHour: null, unknownReason: `On-demand price unknown: ${why}` };
  }
  const price = onDemand.prices.get(instanceType);
  return price === undefined
    ? { pricePerHour: null, unknownReason: `On-demand price unknown: the Price List has no Linux price for ${instanceType} in ${region}.` }
    : { pricePerHour: price, unknownReason: null };
}

/** Current lowest spot prices of `instanceTypes` in `region` (for keeping live spot instances' prices current). */
export async function currentSpotPrices(session: AwsSession, region: string, instanceTypes: readonly string[]): Promise<Map<string, number> | null> {
  const spot = await lowestSpotPrices(session, region, instanceTypes, { cache });
  return spot.ok ? spot.value : null;
}

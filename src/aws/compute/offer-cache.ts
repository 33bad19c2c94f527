// What offer lookups remember, per (region, credentials): instance types, spot prices and
// on-demand prices, each for its own time.
import { AwsCache } from "../cache.js";
import type { AwsResult } from "../errors.js";
import type { InstanceOffer } from "./instance-types.js";
import type { OnDemandPrices } from "./on-demand-prices.js";

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

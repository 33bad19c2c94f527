import { listPricedOffers, OfferCache, type InstanceOfferFilter, type PricedOffer } from "../aws/compute/offers.js";
import type { Viewer } from "../users/viewer.js";
import { AwsQueryError } from "../errors/errors.js";
import type { BackendsService } from "../backends/backends.service.js";
import { scopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";

export class OffersService {
  /** Instance types and spot prices change slowly: cached per (region, credentials) with a TTL. */
  private readonly cache = new OfferCache();

  constructor(private readonly backends: BackendsService) {}

  /** Priced offers of the backend's region, sorted by price then size; [] when the backend is not visible. */
  async list(viewer: Viewer, backendId: string, filter: InstanceOfferFilter): Promise<PricedOffer[]> {
    const scoped = await scopedBackend(this.backends, viewer, backendId, "VIEWER");
    if (!scoped) return [];
    const listing = await listPricedOffers(scoped.session, scoped.backend.awsRegion, filter, { cache: this.cache });
    if (!listing.ok) throw new AwsQueryError(awsUserError(listing.error, ["backendId"]));
    return listing.value.offers;
  }
}

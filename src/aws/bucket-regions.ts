// Where each of an account's buckets lives, in as few rounds of calls as the account allows. AWS
// names the region in ListBuckets itself (BucketRegion), and then nothing more is asked. Endpoints
// that do not (older ones, moto, S3-compatible stores) leave two ways: GetBucketLocation per
// bucket, or ListBuckets filtered by BucketRegion per enabled region. Few buckets: the first.
// Many: the second, one round of (at most) one call per enabled region however many buckets there
// are, instead of hundreds of calls; GetBucketLocation then only for buckets no listing placed
// (opt-in regions, or a region whose listing failed). Every fan-out is bounded, so a large
// account costs a few dozen calls, never a throttling storm.
import type { S3Client } from "@aws-sdk/client-s3";
import pMap from "p-map";
import { attempt, type AwsFailure } from "./errors.js";
import { DEFAULT_ENABLED_REGIONS } from "./regions.js";
import { sdk } from "./sdk.js";

export interface ListedBucket {
  name: string;
  /** BucketRegion from the listing, when the endpoint gave it. */
  region?: string;
  createdAt: Date | null;
}

export interface PlacedBucket {
  name: string;
  /** null when GetBucketLocation was refused or failed for this bucket. */
  region: string | null;
  createdAt: Date | null;
}

export interface BucketPlacement {
  buckets: PlacedBucket[];
  /** One per bucket whose region could not be read (usually s3:GetBucketLocation denied). */
  locationErrors: AwsFailure[];
}

/** GetBucketLocation calls in flight at once. */
export const LOCATION_CONCURRENCY = 10;
/** Region listings in flight at once: every enabled region (17) in one round. */
export const REGION_LISTING_CONCURRENCY = 20;

/** GetBucketLocation's answer as a region code: empty means us-east-1, and "EU" is the old name of eu-west-1. */
export function normalizeBucketRegion(locationConstraint: string | null | undefined): string {
  if (!locationConstraint) return "us-east-1";
  if (locationConstraint === "EU") return "eu-west-1";
  return locationConstraint;
}

/** Bucket name → region, from one filtered listing per region (all pages); failed regions are left out. */
async function regionsByListing(s3: S3Client, regions: readonly string[]): Promise<Map<string, string>> {
  const { ListBucketsCommand } = await sdk.s3();
  const found = new Map<string, string>();
  await pMap(
    regions,
    async (region) => {
      let token: string | undefined;
      do {
        const page = await attempt("s3", "ListBuckets", () => s3.send(new ListBucketsCommand({ BucketRegion: region, MaxBuckets: 1000, ContinuationToken: token })));
        if (!page.ok) return; // its buckets fall back to GetBucketLocation
        for (const bucket of page.value.Buckets ?? []) if (bucket.Name) found.set(bucket.Name, region);
        token = page.value.ContinuationToken || undefined;
      } while (token);
    },
    { concurrency: REGION_LISTING_CONCURRENCY },
  );
  return found;
}

/** Each listed bucket with its region; `s3` is a client for the listing's region (us-east-1). */
export async function placeBuckets(s3: S3Client, listed: readonly ListedBucket[], options: { concurrency?: number } = {}): Promise<BucketPlacement> {
  const { GetBucketLocationCommand } = await sdk.s3();
  const unplaced = listed.filter((bucket) => !bucket.region);
  const listedRegions = unplaced.length > DEFAULT_ENABLED_REGIONS.length ? await regionsByListing(s3, DEFAULT_ENABLED_REGIONS) : new Map<string, string>();
  const locationErrors: AwsFailure[] = [];
  const buckets = await pMap(
    listed,
    async (bucket): Promise<PlacedBucket> => {
      const known = bucket.region ?? listedRegions.get(bucket.name);
      if (known) return { name: bucket.name, region: known, createdAt: bucket.createdAt };
      const location = await attempt("s3", "GetBucketLocation", () => s3.send(new GetBucketLocationCommand({ Bucket: bucket.name })));
      if (!location.ok) locationErrors.push(location.error);
      return { name: bucket.name, region: location.ok ? normalizeBucketRegion(location.value.LocationConstraint) : null, createdAt: bucket.createdAt };
    },
    { concurrency: Math.max(1, options.concurrency ?? LOCATION_CONCURRENCY) },
  );
  return { buckets, locationErrors };
}

// The AWS calls behind backend discovery. Each returns data or a classified failure and never
// throws for AWS-side problems (denied, missing, throttled, unreachable), so the caller can
// report every problem and still return whatever did work.
import type { RouteTable, Subnet } from "@aws-sdk/client-ec2";
import { normalizeBucketRegion, placeBuckets, type BucketPlacement, type PlacedBucket } from "./bucket-regions.js";
import type { AwsClientFactory, AwsCredentialSource } from "./clients.js";
import { attempt, type AwsFailure, type AwsResult } from "./errors.js";
import { allPages } from "./pagination.js";
import { HOME_REGION, isKnownRegion } from "./regions.js";
import { sdk } from "./sdk.js";

/** Who is calling, and through which factory. */
export interface AwsSession {
  factory: AwsClientFactory;
  credentials: AwsCredentialSource;
}

export interface CallerIdentity {
  accountId: string;
  arn: string;
}

/**
 * STS GetCallerIdentity needs no IAM permission, so it is the credential probe. It always goes to
 * us-east-1: in a region the account has not opted into, STS answers InvalidClientTokenId, which
 * would wrongly say the keys are bad.
 */
export async function getCallerIdentity(session: AwsSession): Promise<AwsResult<CallerIdentity>> {
  const { GetCallerIdentityCommand } = await sdk.sts();
  const sts = await session.factory.client("sts", HOME_REGION, session.credentials);
  const result = await attempt("sts", "GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
  if (!result.ok) return result;
  return { ok: true, value: { accountId: result.value.Account ?? "", arn: result.value.Arn ?? "" } };
}

export { normalizeBucketRegion };

export type BucketSummary = PlacedBucket;
export type BucketListing = BucketPlacement;

/** ListBuckets (all pages), then each bucket's region (bucket-regions.ts: bounded, in few rounds). */
export async function listBucketsWithRegions(
  session: AwsSession,
  options: { concurrency?: number } = {},
): Promise<AwsResult<BucketListing>> {
  const { paginateListBuckets } = await sdk.s3();
  const s3 = await session.factory.client("s3", HOME_REGION, session.credentials);
  const listing = await attempt("s3", "ListBuckets", () => allPages(paginateListBuckets({ client: s3 }, { MaxBuckets: 1000 }), (page) => page.Buckets));
  if (!listing.ok) return listing;
  const listed = listing.value.flatMap((bucket) =>
    bucket.Name ? [{ name: bucket.Name, region: bucket.BucketRegion || undefined, createdAt: bucket.CreationDate ?? null }] : [],
  );

  return { ok: true, value: await placeBuckets(s3, listed, options) };
}

export type BucketCheck =
  | { status: "FOUND"; region: string | null; locationError: AwsFailure | null }
  | { status: "NOT_FOUND" }
  /** The bucket exists (or belongs to another account) and these credentials may not list it. */
  | { status: "ACCESS_DENIED"; region: string | null; error: AwsFailure };

/**
 * Whether a bucket exists, is usable, and where it lives. Runs GetBucketLocation (the real region)
 * and ListObjectsV2 with MaxKeys=0 (the access probe, s3:ListBucket) in parallel. The probe is
 * ListObjectsV2 rather than HeadBucket: both need s3:ListBucket on AWS, but HEAD errors have no
 * body (so codes are lost) and moto checks HeadBucket against a non-AWS action (s3:HeadBucket).
 * 404 from either call means the bucket does not exist; 403 on the probe means it is not ours to use.
 */
export async function checkBucket(session: AwsSession, bucket: string, region?: string): Promise<AwsResult<BucketCheck>> {
  const { GetBucketLocationCommand, ListObjectsV2Command } = await sdk.s3();
  const s3 = await session.factory.client("s3", region && isKnownRegion(region) ? region : HOME_REGION, session.credentials);
  const [location, probe] = await Promise.all([
    attempt("s3", "GetBucketLocation", () => s3.send(new GetBucketLocationCommand({ Bucket: bucket }))),
    attempt("s3", "ListObjectsV2", () => s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }))),
  ]);
  if ((!location.ok && location.error.kind === "NOT_FOUND") || (!probe.ok && probe.error.kind === "NOT_FOUND")) {
    return { ok: true, value: { status: "NOT_FOUND" } };
  }
  const bucketRegion = location.ok ? normalizeBucketRegion(location.value.LocationConstraint) : null;
  if (probe.ok) {
    return { ok: true, value: { status: "FOUND", region: bucketRegion, locationError: location.ok ? null : location.error } };
  }
  if (probe.error.kind === "ACCESS_DENIED") {
    return { ok: true, value: { status: "ACCESS_DENIED", region: bucketRegion, error: probe.error } };
  }
  return probe;
}

export interface SubnetSummary {
  id: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
  /** The Name tag, if any. */
  name: string | null;
  /** Its zone's default subnet. */
  isDefaultForAz: boolean;
  /** Instances launched into it get a public IP by default. */
  mapsPublicIp: boolean;
  /** Has a route to an internet gateway; null when route tables could not be read. */
  public: boolean | null;
}

export interface SubnetListing {
  subnets: SubnetSummary[];
  /** Why `public` is null (ec2:DescribeRouteTables is not in the documented policy). */
  routeTablesError: AwsFailure | null;
}

function toSummary(subnet: Subnet, isPublic: boolean | null): SubnetSummary {
  return {
    id: subnet.SubnetId ?? "",
    vpcId: subnet.VpcId ?? "",
    availabilityZone: subnet.AvailabilityZone ?? "",
    cidrBlock: subnet.CidrBlock ?? "",
    name: subnet.Tags?.find((tag) => tag.Key === "Name")?.Value ?? null,
    isDefaultForAz: subnet.DefaultForAz ?? false,
    mapsPublicIp: subnet.MapPublicIpOnLaunch ?? false,
    public: isPublic,
  };
}

function routesToInternet(table: RouteTable | undefined): boolean {
  return (table?.Routes ?? []).some((route) => route.GatewayId?.startsWith("igw-") && route.State !== "blackhole");
}

/** A subnet uses its explicitly associated route table, or else its VPC's main table. */
export function publicSubnetIds(routeTables: RouteTable[]): (subnetId: string, vpcId: string) => boolean {
  const explicit = new Map<string, RouteTable>();
  const mainByVpc = new Map<string, RouteTable>();
  for (const table of routeTables) {
    for (const association of table.Associations ?? []) {
      if (association.SubnetId) explicit.set(association.SubnetId, table);
      if (association.Main && table.VpcId) mainByVpc.set(table.VpcId, table);
    }
  }
  return (subnetId, vpcId) => routesToInternet(explicit.get(subnetId) ?? mainByVpc.get(vpcId));
}


/** Every subnet of the region (all VPCs, all pages), labelled public/private from the route tables. */
export async function listSubnets(session: AwsSession, region: string): Promise<AwsResult<SubnetListing>> {
  const { paginateDescribeRouteTables, paginateDescribeSubnets } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const [subnets, routeTables] = await Promise.all([
    attempt("ec2", "DescribeSubnets", () => allPages(paginateDescribeSubnets({ client: ec2 }, { MaxResults: 1000 }), (page) => page.Subnets)),
    attempt("ec2", "DescribeRouteTables", () => allPages(paginateDescribeRouteTables({ client: ec2 }, { MaxResults: 100 }), (page) => page.RouteTables)),
  ]);
  if (!subnets.ok) return subnets;
  const isPublic = routeTables.ok ? publicSubnetIds(routeTables.value) : null;
  return {
    ok: true,
    value: {
      subnets: subnets.value.map((subnet) => toSummary(subnet, isPublic ? isPublic(subnet.SubnetId ?? "", subnet.VpcId ?? "") : null)),
      routeTablesError: routeTables.ok ? null : routeTables.error,
    },
  };
}

/** One subnet in one region; `value` is null when the region has no such subnet. `public` is not computed. */
export async function describeSubnet(session: AwsSession, region: string, subnetId: string): Promise<AwsResult<SubnetSummary | null>> {
  const { DescribeSubnetsCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const result = await attempt("ec2", "DescribeSubnets", () => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] })));
  if (!result.ok) return result.error.kind === "NOT_FOUND" ? { ok: true, value: null } : result;
  const subnet = result.value.Subnets?.[0];
  return { ok: true, value: subnet ? toSummary(subnet, null) : null };
}

/**
 * Which of `regions` holds the subnet, asking them all in parallel. Regions that fail (opt-in
 * regions not enabled, denied, throttled) count as "not there": this only improves an error message.
 */
export async function findSubnetRegion(session: AwsSession, subnetId: string, regions: readonly string[]): Promise<string | null> {
  const found = await Promise.all(
    regions.map(async (region) => {
      const result = await describeSubnet(session, region, subnetId);
      return result.ok && result.value ? region : null;
    }),
  );
  return found.find((region) => region !== null) ?? null;
}

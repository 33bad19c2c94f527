// The instance types of a region (DescribeInstanceTypes, all pages), as offers, and the local
// filter over them: DescribeInstanceTypes filters match exact values only (no "at least 8 vCPUs").
import type { InstanceTypeInfo } from "@aws-sdk/client-ec2";
import { awsCacheKey } from "../cache.js";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import type { OfferCache } from "./offer-cache.js";
import { sdk } from "../sdk.js";

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
  const { paginateDescribeInstanceTypes } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
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

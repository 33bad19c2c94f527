// Batched reads of instance and spot request state. Ids go into the `instance-id` /
// `spot-instance-request-id` filters, at most 100 per call, rather than into InstanceIds /
// SpotInstanceRequestIds: with the id parameters one unknown id (an instance EC2 has already
// forgotten, or one too new to be listed yet) fails the whole batch with *.NotFound, while a filter
// simply leaves it out. Both filters are among those moto implements (no HTTP 500 there).
import type { Instance, SpotInstanceRequest } from "@aws-sdk/client-ec2";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { tagRecord } from "../names.js";
import { sdk } from "../sdk.js";

export const IDS_PER_CALL = 100;

export interface InstanceInfo {
  instanceId: string;
  /** EC2's state name: pending, running, shutting-down, terminated, stopping, stopped. */
  state: string;
  /** Why it is in this state, e.g. { code: "Server.SpotInstanceTermination", … } after an interruption. */
  stateReason: { code: string; message: string } | null;
  instanceType: string;
  market: "SPOT" | "ON_DEMAND";
  spotRequestId: string | null;
  launchTime: Date | null;
  availabilityZone: string | null;
  publicIp: string | null;
  publicDnsName: string | null;
  privateIp: string | null;
  tags: Record<string, string>;
}

export interface SpotRequestInfo {
  requestId: string;
  /** open, active, closed, cancelled, failed (disabled for persistent requests). */
  state: string;
  /** e.g. pending-evaluation, fulfilled, capacity-not-available, canceled-before-fulfillment. */
  statusCode: string | null;
  statusMessage: string | null;
  instanceId: string | null;
  createTime: Date | null;
  tags: Record<string, string>;
}

export interface Listing<T> {
  found: T[];
  /** Requested ids EC2 did not list (gone for a while, or not visible yet right after launch). */
  missing: string[];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

export function toInstanceInfo(instance: Instance): InstanceInfo {
  return {
    instanceId: instance.InstanceId ?? "",
    state: instance.State?.Name ?? "unknown",
    stateReason: instance.StateReason?.Code ? { code: instance.StateReason.Code, message: instance.StateReason.Message ?? "" } : null,
    instanceType: instance.InstanceType ?? "",
    market: instance.InstanceLifecycle === "spot" ? "SPOT" : "ON_DEMAND",
    spotRequestId: instance.SpotInstanceRequestId ?? null,
    launchTime: instance.LaunchTime ?? null,
    availabilityZone: instance.Placement?.AvailabilityZone ?? null,
    publicIp: instance.PublicIpAddress ?? null,
    publicDnsName: instance.PublicDnsName || null,
    privateIp: instance.PrivateIpAddress ?? null,
    tags: tagRecord(instance.Tags),
  };
}

export function toSpotRequestInfo(request: SpotInstanceRequest): SpotRequestInfo {
  return {
    requestId: request.SpotInstanceRequestId ?? "",
    state: request.State ?? "unknown",
    statusCode: request.Status?.Code ?? null,
    statusMessage: request.Status?.Message || null,
    instanceId: request.InstanceId ?? null,
    createTime: request.CreateTime ?? null,
    tags: tagRecord(request.Tags),
  };
}

/** The instances among `instanceIds` (≤ 100 per DescribeInstances call, all pages), and the ids not listed. */
export async function describeInstances(session: AwsSession, region: string, instanceIds: readonly string[]): Promise<AwsResult<Listing<InstanceInfo>>> {
  const ids = [...new Set(instanceIds)].filter(Boolean);
  const { paginateDescribeInstances } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const found = new Map<string, InstanceInfo>();
  for (const batch of chunks(ids, IDS_PER_CALL)) {
    const result = await attempt("ec2", "DescribeInstances", async () => {
      const input = { Filters: [{ Name: "instance-id", Values: batch }], MaxResults: 1000 };
      for await (const page of paginateDescribeInstances({ client: ec2 }, input)) {
        for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
          if (instance.InstanceId) found.set(instance.InstanceId, toInstanceInfo(instance));
        }
      }
    });
    if (!result.ok) return result;
  }
  return { ok: true, value: { found: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) } };
}

/** The spot requests among `requestIds` (≤ 100 per call, all pages), and the ids not listed. */
export async function describeSpotRequests(
  session: AwsSession,
  region: string,
  requestIds: readonly string[],
): Promise<AwsResult<Listing<SpotRequestInfo>>> {
  const ids = [...new Set(requestIds)].filter(Boolean);
  const { paginateDescribeSpotInstanceRequests } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const found = new Map<string, SpotRequestInfo>();
  for (const batch of chunks(ids, IDS_PER_CALL)) {
    const result = await attempt("ec2", "DescribeSpotInstanceRequests", async () => {
      const input = { Filters: [{ Name: "spot-instance-request-id", Values: batch }], MaxResults: 1000 };
      for await (const page of paginateDescribeSpotInstanceRequests({ client: ec2 }, input)) {
        for (const request of page.SpotInstanceRequests ?? []) {
          if (request.SpotInstanceRequestId) found.set(request.SpotInstanceRequestId, toSpotRequestInfo(request));
        }
      }
    });
    if (!result.ok) return result;
  }
  return { ok: true, value: { found: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) } };
}

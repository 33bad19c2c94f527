// What EC2 runs for a backend, found by its tags rather than by the ids the database knows: every
// instance and spot request tagged dstack_backend=<backend id>, and (launches from before that tag
// existed) dstack_bucket=<bucket>. Terminated instances and closed requests are left out.
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { BUCKET_TAG } from "../names.js";
import { sdk } from "../sdk.js";
import { toInstanceInfo, toSpotRequestInfo, type InstanceInfo, type SpotRequestInfo } from "../compute/describe.js";

/** The key instanceTags() gives the backend's id. */
export const BACKEND_TAG = "dstack_backend";

export interface BackendOwner {
  backendId: string;
  bucket: string;
}

/** Instances in these states still run or can run again (and bill for their disks). */
const UNENDED_INSTANCE_STATES = new Set(["pending", "running", "stopping", "stopped"]);
/** Spot requests in these states can still start (or hold) an instance. */
const UNENDED_REQUEST_STATES = new Set(["open", "active"]);

/** The tag filters that find a backend's resources, one Describe call each. */
function ownerFilters(owner: BackendOwner) {
  return [
    [{ Name: `tag:${BACKEND_TAG}`, Values: [owner.backendId] }],
    [{ Name: `tag:${BUCKET_TAG}`, Values: [owner.bucket] }],
  ];
}

/** Tagged for this backend, or for its bucket without naming another backend. */
export function belongsTo(tags: Record<string, string>, owner: BackendOwner): boolean {
  const backend = tags[BACKEND_TAG];
  if (backend !== undefined) return backend === owner.backendId;
  return tags[BUCKET_TAG] === owner.bucket;
}

/** The backend's instances EC2 lists in any state but shutting-down and terminated (all pages). */
export async function listOwnedInstances(session: AwsSession, region: string, owner: BackendOwner): Promise<AwsResult<InstanceInfo[]>> {
  const { DescribeInstancesCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const found = new Map<string, InstanceInfo>();
  for (const Filters of ownerFilters(owner)) {
    const result = await attempt("ec2", "DescribeInstances", async () => {
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 1000, NextToken }));
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          const info = toInstanceInfo(instance);
          if (info.instanceId && UNENDED_INSTANCE_STATES.has(info.state) && belongsTo(info.tags, owner)) found.set(info.instanceId, info);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    });
    if (!result.ok) return result;
  }
  return { ok: true, value: [...found.values()] };
}

/** The backend's open or active spot requests (all pages). */
export async function listOwnedSpotRequests(session: AwsSession, region: string, owner: BackendOwner): Promise<AwsResult<SpotRequestInfo[]>> {
  const { DescribeSpotInstanceRequestsCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const found = new Map<string, SpotRequestInfo>();
  for (const Filters of ownerFilters(owner)) {
    const result = await attempt("ec2", "DescribeSpotInstanceRequests", async () => {
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new DescribeSpotInstanceRequestsCommand({ Filters, MaxResults: 1000, NextToken }));
        for (const request of page.SpotInstanceRequests ?? []) {
          const info = toSpotRequestInfo(request);
          if (info.requestId && UNENDED_REQUEST_STATES.has(info.state) && belongsTo(info.tags, owner)) found.set(info.requestId, info);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    });
    if (!result.ok) return result;
  }
  return { ok: true, value: [...found.values()] };
}

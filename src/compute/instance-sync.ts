// Keeps Instance rows in step with EC2. One replica at a time syncs (a try-lock per round), each
// backend's instances are described in batches (100 ids per Describe call), and a launch left
// unfinished (timeout, IAM propagation) is completed with its original ClientToken.
import { describeInstances, describeSpotRequests, type InstanceInfo, type SpotRequestInfo } from "../aws/compute/describe.js";
import { mapInstanceStatus } from "../aws/compute/status.js";
import type { Database } from "../db/prisma.js";
import type { AwsSession } from "../aws/discovery.js";
import { lookupByToken, normalizeClientToken } from "../aws/compute/launch.js";
import type { Backend, Instance } from "../generated/prisma/client.js";
import type { Logger } from "../logging/logger.js";
import type { BackendsService } from "../backends/backends.service.js";
import type { InstancesService } from "./instances.service.js";

/** Arbitrary constant: the advisory lock a sync round holds. */
const SYNC_LOCK_KEY = 72_707_372;
const LIVE = ["PENDING", "RUNNING", "TERMINATING", "NO_CAPACITY"] as const;
/** A launch that EC2 still does not list after this long never happened. */
const UNFINISHED_LAUNCH_MS = 10 * 60_000;

export type LiveInstance = Instance & { backend: Backend };

export class InstanceSync {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly backends: BackendsService,
    private readonly instances: InstancesService,
    private readonly logger: Logger,
    /** Told when a live record's instance is found terminated in EC2, before the record is updated (reconciliation reports it unless the service is ending it). */
    private readonly onGone?: (row: LiveInstance, reason: string) => Promise<void>,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.round(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sync of every live instance; skipped when another replica is syncing right now. */
  round(): Promise<void> {
    this.running ??= this.syncLocked().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncLocked(): Promise<void> {
    const client = await this.database.pool.connect().catch(() => null);
    if (!client) return;
    try {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [SYNC_LOCK_KEY]);
      if (!rows[0]?.locked) return;
      try {
        await this.syncAll();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [SYNC_LOCK_KEY]);
      }
    } catch (error) {
      this.logger.warn({ err: error }, "instance sync round failed");
    } finally {
      client.release();
    }
  }

  private async syncAll(): Promise<void> {
    const live = await this.database.prisma.instance.findMany({ where: { status: { in: [...LIVE] } }, include: { backend: true } });
    const byBackend = new Map<string, LiveInstance[]>();
    for (const row of live) byBackend.set(row.backendId, [...(byBackend.get(row.backendId) ?? []), row]);
    for (const rows of byBackend.values()) await this.syncBackend(rows);
  }

  private async syncBackend(rows: LiveInstance[]): Promise<void> {
    const backend = rows[0]!.backend;
    let session;
    try {
      session = this.backends.sessionFor(backend);
    } catch {
      return; // credentials cannot be opened; the API reports that on use
    }
    const region = backend.awsRegion;
    // Spot requests first, then the instances: known ones and those the requests were just fulfilled
    // with, so a fulfilled request shows its instance's state in the same round.
    const requestIds = rows.flatMap((row) => (row.spotRequestId ? [row.spotRequestId] : []));
    const requests = requestIds.length ? await describeSpotRequests(session, region, requestIds) : null;
    if (requests && !requests.ok) return; // transient or denied: next round
    const requestById = new Map<string, SpotRequestInfo>((requests?.ok ? requests.value.found : []).map((info) => [info.requestId, info]));
    const instanceIds = rows.flatMap((row) => {
      const id = row.awsInstanceId ?? (row.spotRequestId ? requestById.get(row.spotRequestId)?.instanceId : null);
      return id ? [id] : [];
    });
    const instances = instanceIds.length ? await describeInstances(session, region, instanceIds) : null;
    if (instances && !instances.ok) return;
    const instanceById = new Map<string, InstanceInfo>((instances?.ok ? instances.value.found : []).map((info) => [info.instanceId, info]));
    for (const row of rows) {
      if (!row.awsInstanceId && !row.spotRequestId) {
        await this.adoptUnfinishedLaunch(row, session);
        continue;
      }
      const spotRequest = row.spotRequestId ? (requestById.get(row.spotRequestId) ?? null) : undefined;
      const instanceId = row.awsInstanceId ?? spotRequest?.instanceId ?? null;
      const instance = instanceId ? (instanceById.get(instanceId) ?? (row.awsInstanceId ? null : undefined)) : undefined;
      const mapped = mapInstanceStatus({ instance, spotRequest, launchedAt: row.createdAt });
      if (mapped.status === row.status && instanceId === row.awsInstanceId && (mapped.reason ?? row.statusReason) === row.statusReason) continue;
      // Ended behind the service's back: reported first, only if the record is still live by then.
      if (mapped.status === "TERMINATED" && row.status !== "TERMINATING") await this.onGone?.(row, mapped.reason ?? "EC2 reports it terminated.");
      // A record the service is terminating keeps the reason it gave (e.g. a time limit) over EC2's "user initiated".
      const keptReason = row.status === "TERMINATING" ? row.statusReason : null;
      await this.instances.update(row.id, {
        status: mapped.status,
        statusReason: keptReason ?? mapped.reason ?? row.statusReason,
        awsInstanceId: instanceId,
        ...(mapped.status === "TERMINATED" && !row.terminatedAt ? { terminatedAt: new Date() } : {}),
      });
    }
  }

  /**
   * A launch whose answer was lost (timeout, IAM propagation bound): the instance its ClientToken
   * started is adopted; if none shows up within the grace period, the launch is marked FAILED.
   */
  private async adoptUnfinishedLaunch(row: LiveInstance, session: AwsSession): Promise<void> {
    const lookup = await lookupByToken(session, row.region, normalizeClientToken(row.clientToken));
    if (!lookup.ok) return; // could not look: never conclude "not launched" from that; next round
    const found = lookup.value;
    if (found) {
      await this.instances.update(row.id, { awsInstanceId: found.instanceId, spotRequestId: found.spotRequestId, statusReason: null });
    } else if (Date.now() - row.createdAt.getTime() > UNFINISHED_LAUNCH_MS) {
      await this.instances.update(row.id, { status: "FAILED", statusReason: "The launch did not complete; launch again.", terminatedAt: new Date() });
    }
  }
}

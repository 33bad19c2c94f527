// Keeps Instance rows in step with EC2. One replica at a time syncs (a try-lock per round), each
// backend's instances are described in batches (100 ids per Describe call), a launch left
// unfinished (timeout, IAM propagation) is completed with its original ClientToken, and a record
// whose termination was asked for is terminated again until EC2 reports it terminated. A backend
// that fails (credentials, AWS, anything) is logged with its id and skipped until the next round;
// the other backends are synced all the same.
import { describeInstances, describeSpotRequests, type InstanceInfo, type SpotRequestInfo } from "../aws/compute/describe.js";
import { mapInstanceStatus } from "../aws/compute/status.js";
import type { AwsFailure } from "../aws/errors.js";
import type { Database } from "../db/prisma.js";
import { lookupByToken, normalizeClientToken } from "../aws/compute/launch.js";
import type { Backend, Instance } from "../generated/prisma/client.js";
import type { Logger } from "../logging/logger.js";
import type { BackendsService } from "../backends/backends.service.js";
import type { ScopedBackend } from "./backend-scope.js";
import { UNFINISHED_LAUNCH_MS } from "./instance-termination.js";
import type { InstanceChange } from "./instance-records.js";
import type { InstancesService } from "./instances.service.js";

/** Arbitrary constant: the advisory lock a sync round holds. */
const SYNC_LOCK_KEY = 72_707_372;
const LIVE = ["PENDING", "RUNNING", "TERMINATING", "NO_CAPACITY"] as const;

export type LiveInstance = Instance & { backend: Backend };

/** The record has not changed since the sync read it: a decision made from that reading still applies. */
const unchangedSince = (read: Instance) => (now: Instance) =>
  now.status === read.status &&
  now.awsInstanceId === read.awsInstanceId &&
  now.spotRequestId === read.spotRequestId &&
  now.terminationRequestedAt?.getTime() === read.terminationRequestedAt?.getTime();

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
    const live = await this.database.prisma.instance.findMany({
      where: { status: { in: [...LIVE] } },
      include: { backend: true },
      orderBy: [{ backendId: "asc" }, { createdAt: "asc" }],
    });
    const byBackend = new Map<string, LiveInstance[]>();
    for (const row of live) byBackend.set(row.backendId, [...(byBackend.get(row.backendId) ?? []), row]);
    for (const [backendId, rows] of byBackend) {
      try {
        await this.syncBackend(rows);
      } catch (error) {
        this.logger.warn({ err: error, backendId }, "instance sync failed for this backend; the other backends go on, and it is retried next round");
      }
    }
  }

  private awsFailed(backendId: string, failure: AwsFailure): void {
    this.logger.warn(
      { backendId, operation: failure.operation, code: failure.code, kind: failure.kind, reason: failure.message },
      "instance sync: AWS call failed for this backend; retried next round",
    );
  }

  private async syncBackend(rows: LiveInstance[]): Promise<void> {
    const backend = rows[0]!.backend;
    let scoped: ScopedBackend;
    try {
      scoped = { backend, session: this.backends.sessionFor(backend) };
    } catch (error) {
      this.logger.warn({ backendId: backend.id, reason: (error as Error).message }, "instance sync: the backend's stored credentials cannot be used; skipped");
      return;
    }
    const { session } = scoped;
    const region = backend.awsRegion;
    // Spot requests first, then the instances: known ones and those the requests were just fulfilled
    // with, so a fulfilled request shows its instance's state in the same round.
    const requestIds = rows.flatMap((row) => (row.spotRequestId ? [row.spotRequestId] : []));
    const requests = requestIds.length ? await describeSpotRequests(session, region, requestIds) : null;
    if (requests && !requests.ok) return this.awsFailed(backend.id, requests.error);
    const requestById = new Map<string, SpotRequestInfo>((requests?.ok ? requests.value.found : []).map((info) => [info.requestId, info]));
    const instanceIds = rows.flatMap((row) => {
      const id = row.awsInstanceId ?? (row.spotRequestId ? requestById.get(row.spotRequestId)?.instanceId : null);
      return id ? [id] : [];
    });
    const instances = instanceIds.length ? await describeInstances(session, region, instanceIds) : null;
    if (instances && !instances.ok) return this.awsFailed(backend.id, instances.error);
    const instanceById = new Map<string, InstanceInfo>((instances?.ok ? instances.value.found : []).map((info) => [info.instanceId, info]));
    for (const row of rows) {
      const spotRequest = row.spotRequestId ? (requestById.get(row.spotRequestId) ?? null) : undefined;
      const instanceId = row.awsInstanceId ?? spotRequest?.instanceId ?? null;
      const instance = instanceId ? (instanceById.get(instanceId) ?? (row.awsInstanceId ? null : undefined)) : undefined;
      const mapped = mapInstanceStatus({ instance, spotRequest, launchedAt: row.createdAt });
      const confirmedEnded = Boolean(instance && (mapped.status === "TERMINATED" || mapped.status === "FAILED"));
      if (row.terminationRequestedAt && !confirmedEnded) {
        // Asked to terminate, and EC2 does not report it ended: terminate it (again).
        const result = await this.instances.termination.pursue(row, scoped);
        for (const problem of result.userErrors) this.logger.warn({ backendId: backend.id, instanceId: row.id, code: problem.code, reason: problem.message }, "instance sync: termination failed; retried next round");
        continue;
      }
      if (!row.awsInstanceId && !row.spotRequestId) {
        await this.adoptUnfinishedLaunch(row, scoped);
        continue;
      }
      if (mapped.status === row.status && instanceId === row.awsInstanceId && (mapped.reason ?? row.statusReason) === row.statusReason) continue;
      // Ended behind the service's back: reported first, only if the record is still live by then.
      if (mapped.status === "TERMINATED" && row.status !== "TERMINATING") await this.onGone?.(row, mapped.reason ?? "EC2 reports it terminated.");
      // A record the service is terminating keeps the reason it gave (e.g. a time limit) over EC2's "user initiated".
      const keptReason = row.status === "TERMINATING" ? row.statusReason : null;
      await this.apply(row, {
        status: mapped.status,
        statusReason: keptReason ?? mapped.reason ?? row.statusReason,
        awsInstanceId: instanceId,
        ...(mapped.status === "TERMINATED" && !row.terminatedAt ? { terminatedAt: new Date() } : {}),
      });
    }
  }

  /** Writes what the sync concluded, unless the record changed since it was read (then next round). */
  private async apply(row: LiveInstance, change: InstanceChange): Promise<void> {
    const current = unchangedSince(row);
    await this.instances.records.change(row.backendId, row.id, (now) => (current(now) ? change : null));
  }

  /**
   * A launch whose answer was lost (timeout, IAM propagation bound): the instance its ClientToken
   * started is adopted; if none shows up within the grace period, the launch is marked FAILED.
   */
  private async adoptUnfinishedLaunch(row: LiveInstance, { session }: ScopedBackend): Promise<void> {
    const lookup = await lookupByToken(session, row.region, normalizeClientToken(row.clientToken));
    // Could not look: never conclude "not launched" from that; next round.
    if (!lookup.ok) return this.awsFailed(row.backendId, lookup.error);
    const found = lookup.value;
    if (found) {
      await this.apply(row, { awsInstanceId: found.instanceId, spotRequestId: found.spotRequestId, statusReason: null });
    } else if (Date.now() - row.createdAt.getTime() > UNFINISHED_LAUNCH_MS) {
      await this.apply(row, { status: "FAILED", statusReason: "The launch did not complete; launch again.", terminatedAt: new Date() });
    }
  }
}

// One reconciliation pass over one backend (the scheduler makes sure only one process runs it at a
// time). In order: the credentials (sts:GetCallerIdentity; if AWS rejects them nothing else can be
// read), time limits, instances and spot requests against the records, current spot prices, then
// drift of what provisioning recorded. The outcome is applied in one transaction that locks the
// backend row: the status (READY, DRIFTED, CREDENTIALS_INVALID), dropped records of resources that
// are gone, open and resolved findings, and lastReconciledAt.
import { getCallerIdentity } from "../aws/discovery.js";
import type { BackendsService } from "../backends/backends.service.js";
import type { InstanceView } from "../compute/instance-view.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Backend } from "../generated/prisma/client.js";
import type { BackendStatus } from "../generated/prisma/enums.js";
import type { Logger } from "../logging/logger.js";
import { forgetRecords, recordedResources } from "../provisioning/index.js";
import { checkDrift, type DriftResult } from "./drift-checks.js";
import { syncOpenFindings, type Family, type Observation } from "./findings.js";
import { checkInstances } from "./instance-checks.js";
import { eventOf, type PartResult, type PassContext, type ReconcilerEvent } from "./pass-context.js";
import { enforceTimeLimits, refreshSpotPrices } from "./time-limits.js";

export interface ReconcilerSettings {
  orphanGraceMs: number;
  /** The CIDRs provisioning opens SSH to (SSH_INGRESS_CIDRS): what the security group must allow. */
  sshIngressCidrs: readonly string[];
}

export interface ReconcilerDeps {
  prisma: PrismaClient;
  backends: BackendsService;
  publishInstance(view: InstanceView): void;
  publishBackend(backendId: string): Promise<void>;
  logger: Logger;
  /** Called for every action and finding (an audit log can subscribe here). */
  listeners: ((event: ReconcilerEvent) => void)[];
}

export type PassOutcome =
  | { done: true; status: BackendStatus; changed: boolean }
  | { done: false; reason: string };

/** Drift is checked only on backends provisioning has finished with. */
const DRIFT_CHECKED: readonly BackendStatus[] = ["READY", "DRIFTED", "CREDENTIALS_INVALID"];

export class Reconciler {
  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly settings: ReconcilerSettings,
  ) {}

  report(event: ReconcilerEvent): void {
    this.deps.logger.info({ reconciler: event }, event.message);
    for (const listener of this.deps.listeners) listener(event);
  }

  /** Reconciles the backend now; the caller holds its lock. */
  async reconcile(backendId: string, now = new Date()): Promise<PassOutcome> {
    const { prisma } = this.deps;
    const backend = await prisma.backend.findUnique({ where: { id: backendId } });
    if (!backend) return { done: false, reason: "the backend no longer exists" };
    const credentials = await this.checkCredentials(backend);
    if (credentials.transient) return { done: false, reason: credentials.transient };
    if (!credentials.session) return this.apply(backend, now, { credentials: credentials.rejected });

    const context: PassContext = {
      prisma,
      backend,
      session: credentials.session,
      now,
      orphanGraceMs: this.settings.orphanGraceMs,
      publishInstance: this.deps.publishInstance,
      report: (event) => this.report(event),
    };
    const limits = await enforceTimeLimits(context);
    const instances = await checkInstances(context);
    const prices = await refreshSpotPrices(context);
    const drift = DRIFT_CHECKED.includes(backend.status)
      ? await checkDrift({
          session: credentials.session,
          region: backend.awsRegion,
          bucket: backend.awsBucket,
          sshIngressCidrs: this.settings.sshIngressCidrs,
          records: await recordedResources(prisma, backend.id),
        })
      : null;
    return this.apply(backend, now, { limits, instances, drift, pricesChanged: prices });
  }

  private async checkCredentials(backend: Backend) {
    let session;
    try {
      session = this.deps.backends.sessionFor(backend);
    } catch (error) {
      return { rejected: `The stored credentials cannot be opened (${(error as Error).message}); enter the access key again with updateAwsBackend.` };
    }
    const identity = await getCallerIdentity(session);
    if (identity.ok) return { session };
    if (identity.error.kind === "INVALID_CREDENTIALS" || identity.error.kind === "NO_CREDENTIALS") {
      return { rejected: `AWS rejects the backend's credentials: ${identity.error.message} (${identity.error.code}). Reactivate the key, or enter a new one with updateAwsBackend.` };
    }
    return { transient: `the credentials could not be checked: ${identity.error.message}` };
  }

  private async apply(
    backend: Backend,
    now: Date,
    parts: { credentials?: string; limits?: PartResult; instances?: PartResult; drift?: DriftResult | null; pricesChanged?: boolean },
  ): Promise<PassOutcome> {
    const { prisma } = this.deps;
    const applied = await prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ status: BackendStatus }[]>`SELECT status::text AS status FROM "Backend" WHERE id = ${backend.id}::uuid FOR UPDATE`;
      if (!row) return null;
      // A provisioning run started or ended while the pass was reading: its drift reads may be stale.
      const runMeanwhile = await tx.provisioningRun.count({ where: { backendId: backend.id, OR: [{ createdAt: { gte: now } }, { finishedAt: { gte: now } }] } });
      const looked = new Set<Family>(["credentials"]);
      const observed: Observation[] = [];
      let status = row.status;
      if (parts.credentials) {
        observed.push({ kind: "CREDENTIALS_REJECTED", action: "REPORTED", resourceType: "iam:access-key", resourceId: backend.awsAccessKeyIdHint ?? "default credentials", message: parts.credentials });
        if (status === "READY" || status === "DRIFTED") status = "CREDENTIALS_INVALID";
      } else if (status === "CREDENTIALS_INVALID") {
        status = "READY";
      }
      if (parts.instances?.looked) {
        looked.add("instances");
        observed.push(...parts.instances.observed, ...(parts.limits?.observed ?? []));
      }
      const drift = parts.drift;
      if (drift?.looked && runMeanwhile === 0 && (status === "READY" || status === "DRIFTED")) {
        looked.add("drift");
        observed.push(...drift.observed);
        await forgetRecords(tx, backend.id, drift.gone);
        if (drift.observed.some((finding) => finding.kind !== "CHECK_DENIED")) status = "DRIFTED";
      }
      const findings = await syncOpenFindings(tx, backend.id, observed, looked, { resolveDrift: status === "READY", now });
      if (status !== row.status) await tx.backend.update({ where: { id: backend.id }, data: { status, lastReconciledAt: now } });
      else await tx.$executeRaw`UPDATE "Backend" SET "lastReconciledAt" = (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC') WHERE id = ${backend.id}::uuid`;
      return { before: row.status, status, findings };
    });
    if (!applied) return { done: false, reason: "the backend no longer exists" };
    const context = { backend } as PassContext;
    for (const finding of applied.findings.opened) this.report(eventOf(context, "reconciler.finding", finding));
    if (applied.status !== applied.before) {
      this.report(eventOf(context, "reconciler.status", { resourceType: "backend", resourceId: backend.id, message: `Backend ${backend.name}: ${applied.before} -> ${applied.status}.` }));
    }
    const changed =
      applied.status !== applied.before ||
      applied.findings.opened.length > 0 ||
      applied.findings.resolved.length > 0 ||
      Boolean(parts.instances?.changed || parts.limits?.changed || parts.pricesChanged);
    if (changed) await this.deps.publishBackend(backend.id);
    return { done: true, status: applied.status, changed };
  }
}

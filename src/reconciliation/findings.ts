// Reconciliation findings: what a pass saw in AWS and what it did. One-off actions (an orphan
// terminated, a record marked terminated) are recorded resolved. Lasting differences (drift,
// rejected credentials, a denied read, an orphan that could not be terminated) stay open while
// passes keep seeing them, so a difference seen every minute is one finding, not one per pass;
// when a pass no longer sees one it is resolved, and drift and credentials get a REPAIRED entry.
import { advisoryLockKey } from "../db/advisory-lock.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Prisma, ReconciliationFinding } from "../generated/prisma/client.js";
import type { ReconciliationAction, ReconciliationFindingKind } from "../generated/prisma/enums.js";
import { encodeCursor, pageRequest, type Page } from "../db/pagination.js";

export interface Observation {
  kind: ReconciliationFindingKind;
  action: ReconciliationAction;
  /** e.g. "ec2:instance", "iam:role", "ec2:security-group-rule". */
  resourceType: string;
  resourceId: string;
  message: string;
}

/** The part of a pass a lasting finding belongs to; a pass resolves only what it looked at. */
export type Family = "credentials" | "instances" | "drift";

export const INSTANCE_RESOURCE_TYPES = new Set(["ec2:instance", "ec2:spot-instances-request"]);

export function familyOf(finding: Pick<Observation, "kind" | "resourceType">): Family {
  if (finding.kind === "CREDENTIALS_REJECTED") return "credentials";
  return INSTANCE_RESOURCE_TYPES.has(finding.resourceType) ? "instances" : "drift";
}

type Db = Prisma.TransactionClient | PrismaClient;
const REPAIRABLE = new Set<ReconciliationFindingKind>(["RESOURCE_MISSING", "RESOURCE_CHANGED", "CREDENTIALS_REJECTED"]);
const sameResource = (a: Pick<Observation, "kind" | "resourceType" | "resourceId">, b: typeof a) =>
  a.kind === b.kind && a.resourceType === b.resourceType && a.resourceId === b.resourceId;

/** Records a one-off action (resolved as it is recorded). */
export async function recordAction(db: Db, backendId: string, observation: Observation, at = new Date()): Promise<void> {
  await db.reconciliationFinding.create({ data: { backendId, ...observation, at, resolvedAt: at } });
}

/**
 * Records a one-off action unless the same kind was already recorded for the same resource (two
 * processes noticing the same instance gone record it once). Returns whether it was recorded.
 */
export async function recordActionOnce(prisma: PrismaClient, backendId: string, observation: Observation): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${advisoryLockKey(`findings:${backendId}`).toString()}::bigint)`;
    const seen = await tx.reconciliationFinding.findFirst({
      where: { backendId, kind: observation.kind, resourceType: observation.resourceType, resourceId: observation.resourceId },
      select: { id: true },
    });
    if (seen) return false;
    await recordAction(tx, backendId, observation);
    return true;
  });
}

export interface OpenFindingsChange {
  opened: Observation[];
  resolved: ReconciliationFinding[];
}

/**
 * Brings the open findings of the `looked` families in line with what the pass `observed`: new
 * differences are opened, open ones no longer seen are resolved. Drift findings are resolved only
 * when `resolveDrift` (the backend is READY again, after provisionBackend), because a pass over a
 * DRIFTED backend no longer checks the resources whose records it dropped.
 */
export async function syncOpenFindings(
  tx: Db,
  backendId: string,
  observed: readonly Observation[],
  looked: ReadonlySet<Family>,
  options: { resolveDrift: boolean; now: Date },
): Promise<OpenFindingsChange> {
  const open = await tx.reconciliationFinding.findMany({ where: { backendId, resolvedAt: null } });
  const opened = observed.filter((observation) => !open.some((finding) => sameResource(finding, observation)));
  const resolved = open.filter((finding) => {
    const family = familyOf(finding);
    if (!looked.has(family) || observed.some((observation) => sameResource(finding, observation))) return false;
    return family !== "drift" || options.resolveDrift || finding.kind === "CHECK_DENIED";
  });
  for (const observation of opened) await tx.reconciliationFinding.create({ data: { backendId, ...observation, at: options.now } });
  if (resolved.length) {
    await tx.reconciliationFinding.updateMany({ where: { id: { in: resolved.map((finding) => finding.id) } }, data: { resolvedAt: options.now } });
  }
  for (const finding of resolved) {
    // Only drift and credentials are repaired; a denied read or an action that failed just ends.
    if (!REPAIRABLE.has(finding.kind)) continue;
    const message =
      finding.kind === "CREDENTIALS_REJECTED"
        ? "AWS accepts the backend's credentials again."
        : `No longer differs (repaired by provisionBackend or changed back): ${finding.message}`;
    await recordAction(tx, backendId, { kind: finding.kind, action: "REPAIRED", resourceType: finding.resourceType, resourceId: finding.resourceId, message }, options.now);
  }
  return { opened, resolved };
}

/** Findings as the API shows them. */
export interface FindingView {
  id: string;
  at: Date;
  kind: ReconciliationFindingKind;
  action: ReconciliationAction;
  resourceType: string;
  resourceId: string;
  message: string;
}

const toView = ({ id, at, kind, action, resourceType, resourceId, message }: ReconciliationFinding): FindingView => ({ id, at, kind, action, resourceType, resourceId, message });

/** A page of a backend's findings, newest first (keyset on (at, id) descending). */
export async function listFindings(prisma: PrismaClient, backendId: string, first?: number | null, after?: string | null): Promise<Page<FindingView>> {
  const request = pageRequest(first, after);
  const cursor = request.after;
  const rows = await prisma.reconciliationFinding.findMany({
    where: { backendId, ...(cursor ? { OR: [{ at: { lt: cursor.createdAt } }, { at: cursor.createdAt, id: { lt: cursor.id } }] } : {}) },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: request.take,
  });
  const size = request.take - 1;
  const edges = rows.slice(0, size).map((row) => ({ cursor: encodeCursor({ createdAt: row.at, id: row.id }), node: toView(row) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, hasPreviousPage: cursor !== undefined, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

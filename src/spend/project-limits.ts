// A project's limits, checked at launch. The check and the insert of the new PENDING record run
// in one transaction that first takes a transaction-scoped advisory lock keyed by the project:
// a second launch in the same project waits until the first has committed its record, then counts
// it. So two launches that would each fit alone cannot both pass.
import { advisoryLockKey } from "../db/advisory-lock.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { InstanceMarket, InstanceStatus } from "../generated/prisma/enums.js";

export type Transaction = Prisma.TransactionClient;

/** Records that run, may still start, or are still being shut down: what limits count. */
export const COUNTED_STATUSES: readonly InstanceStatus[] = ["PENDING", "RUNNING", "TERMINATING"];

export interface LaunchAddition {
  instanceType: string;
  market: InstanceMarket;
  /** USD per hour; null when no price could be read. */
  pricePerHour: number | null;
  /** Why pricePerHour is null. */
  unknownPriceReason?: string | null;
}

export interface ProjectLimits {
  maxHourlySpend: number | null;
  maxLiveInstances: number | null;
  defaultMaxDurationMinutes: number | null;
}

const FIELD = ["backendId"];
const money = (value: number) => `$${Number(value.toPrecision(6))}/h`;

export const projectLockKey = (projectId: string): string => advisoryLockKey(`project-launch:${projectId}`).toString();

/**
 * Waits for the project's launch lock (held until `tx` ends), then checks the launch against the
 * project's limits. Returns the BUDGET_EXCEEDED error naming the limit, the current figure and what
 * the launch would add, or null when it fits; the caller inserts the record in the same `tx`.
 */
export async function checkAndReserveLaunch(tx: Transaction, projectId: string, addition: LaunchAddition): Promise<UserErrorData | null> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${projectLockKey(projectId)}::bigint)`;
  const project = await tx.project.findUnique({ where: { id: projectId }, select: { maxHourlySpend: true, maxLiveInstances: true } });
  if (!project || (project.maxHourlySpend === null && project.maxLiveInstances === null)) return null;
  const live = await tx.instance.findMany({
    where: { backend: { projectId }, status: { in: [...COUNTED_STATUSES] } },
    select: { pricePerHour: true },
  });
  if (project.maxLiveInstances !== null && live.length + 1 > project.maxLiveInstances) {
    return {
      code: UserErrorCode.BUDGET_EXCEEDED,
      message: `maxLiveInstances is ${project.maxLiveInstances}; the project has ${live.length} live instance(s) and this launch would add 1.`,
      field: FIELD,
    };
  }
  if (project.maxHourlySpend !== null) {
    const current = live.reduce((sum, row) => sum + (row.pricePerHour ?? 0), 0);
    const unpriced = live.filter((row) => row.pricePerHour === null).length;
    const uncounted = unpriced ? ` (${unpriced} live instance(s) without a known price not counted)` : "";
    if (addition.pricePerHour === null) {
      const hint = addition.market === "ON_DEMAND" ? " On-demand prices need pricing:GetProducts." : "";
      return {
        code: UserErrorCode.BUDGET_EXCEEDED,
        message: `maxHourlySpend is ${money(project.maxHourlySpend)} and the project runs ${money(current)}${uncounted}; the price of ${addition.instanceType} is not known (${addition.unknownPriceReason ?? "no price"}), so the launch cannot be checked against the limit.${hint}`,
        field: FIELD,
      };
    }
    // A cent's millionth of tolerance: sums of float prices must not refuse an exact fit.
    if (current + addition.pricePerHour > project.maxHourlySpend + 1e-9) {
      return {
        code: UserErrorCode.BUDGET_EXCEEDED,
        message: `maxHourlySpend is ${money(project.maxHourlySpend)}; the project runs ${money(current)}${uncounted} and this launch would add ${money(addition.pricePerHour)}.`,
        field: FIELD,
      };
    }
  }
  return null;
}

/** The maximum run time of a new instance: the launch's own, else the project's default, else none. */
export async function effectiveMaxDuration(tx: Transaction, projectId: string, requested: number | null | undefined): Promise<number | null> {
  if (requested != null) return requested;
  const project = await tx.project.findUnique({ where: { id: projectId }, select: { defaultMaxDurationMinutes: true } });
  return project?.defaultMaxDurationMinutes ?? null;
}

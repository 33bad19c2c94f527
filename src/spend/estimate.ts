// Spend as an estimate: each instance's running time within the window times its price per hour.
// Running time is from the record's creation (the launch request) to its termination (or now, while
// it is live); the price is the one recorded at launch (for spot, the latest the reconciler saw).
// Not included: EBS volumes, data transfer, public IPv4 addresses, taxes, discounts and credits.
import type { InstanceStatus } from "../generated/prisma/enums.js";
import { COUNTED_STATUSES } from "./project-limits.js";

export interface SpendInstance {
  backendId: string;
  status: InstanceStatus;
  /** Only instances EC2 reported (an instance id) have run and cost anything. */
  awsInstanceId: string | null;
  pricePerHour: number | null;
  createdAt: Date;
  terminatedAt: Date | null;
  updatedAt: Date;
}

export interface BackendSpendFigures {
  backendId: string;
  hourlyRunRate: number;
  estimatedCost: number;
}

export interface SpendFigures {
  since: Date;
  hourlyRunRate: number;
  estimatedCost: number;
  /** False when an instance counted has no known price. */
  complete: boolean;
  byBackend: BackendSpendFigures[];
}

const HOUR_MS = 3_600_000;

/** The first instant of the current month, UTC: the default start of the window. */
export function startOfMonthUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

const isLive = (row: SpendInstance) => COUNTED_STATUSES.includes(row.status);

/** Hours the instance ran within [since, now]. */
export function hoursWithin(row: SpendInstance, since: Date, now: Date): number {
  if (!row.awsInstanceId) return 0;
  const end = isLive(row) ? now : (row.terminatedAt ?? row.updatedAt);
  const from = Math.max(row.createdAt.getTime(), since.getTime());
  const to = Math.min(end.getTime(), now.getTime());
  return to > from ? (to - from) / HOUR_MS : 0;
}

/** Figures for the given backends (each appears, with zeros when it has no instance). */
export function estimateSpend(rows: readonly SpendInstance[], backendIds: readonly string[], since: Date, now: Date): SpendFigures {
  const byBackend = new Map<string, BackendSpendFigures>(backendIds.map((backendId) => [backendId, { backendId, hourlyRunRate: 0, estimatedCost: 0 }]));
  let complete = true;
  for (const row of rows) {
    const figures = byBackend.get(row.backendId);
    if (!figures) continue;
    const live = isLive(row);
    const hours = hoursWithin(row, since, now);
    if (!live && hours === 0) continue;
    if (row.pricePerHour === null) {
      complete = false;
      continue;
    }
    if (live) figures.hourlyRunRate += row.pricePerHour;
    figures.estimatedCost += hours * row.pricePerHour;
  }
  const list = [...byBackend.values()];
  return {
    since,
    hourlyRunRate: list.reduce((sum, figures) => sum + figures.hourlyRunRate, 0),
    estimatedCost: list.reduce((sum, figures) => sum + figures.estimatedCost, 0),
    complete,
    byBackend: list,
  };
}

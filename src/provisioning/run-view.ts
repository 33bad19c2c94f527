// A run with its steps as the API shows it, loaded in one query, and its JSON form for events.
import type { PrismaClient } from "../db/prisma.js";
import type { RunKind, RunStatus, StepStatus } from "../generated/prisma/enums.js";

export interface StepView {
  name: string;
  status: StepStatus;
  resourceId: string | null;
  attempts: number;
  message: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RunView {
  id: string;
  backendId: string;
  kind: RunKind;
  status: RunStatus;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  steps: StepView[];
}

const STEP_FIELDS = { name: true, status: true, resourceId: true, attempts: true, message: true, startedAt: true, finishedAt: true } as const;

export async function loadRunView(prisma: PrismaClient, runId: string): Promise<RunView | null> {
  return prisma.provisioningRun.findUnique({
    where: { id: runId },
    include: { steps: { orderBy: { position: "asc" }, select: STEP_FIELDS } },
  });
}

/** A step's fields as the view shows them, from a whole step row. */
export function stepFields(step: StepView): StepView {
  const { name, status, resourceId, attempts, message, startedAt, finishedAt } = step;
  return { name, status, resourceId, attempts, message, startedAt, finishedAt };
}

/** A run's own fields as the view shows them (no steps), from a whole run row. */
export function runFields(run: Omit<RunView, "steps">): Omit<RunView, "steps"> {
  const { id, backendId, kind, status, error, createdAt, startedAt, finishedAt } = run;
  return { id, backendId, kind, status, error, createdAt, startedAt, finishedAt };
}

const DATE_KEYS = ["createdAt", "startedAt", "finishedAt"] as const;
const revive = (value: unknown) => (typeof value === "string" ? new Date(value) : null);

/** Events carry the run as JSON; this restores its dates. */
export function runViewFromJson(json: unknown): RunView {
  const run = json as Record<string, unknown> & { steps: Record<string, unknown>[] };
  for (const key of DATE_KEYS) run[key] = revive(run[key]) ?? (key === "createdAt" ? new Date(0) : null);
  for (const step of run.steps) for (const key of ["startedAt", "finishedAt"]) step[key] = revive(step[key]);
  return run as unknown as RunView;
}

const RUN_RANK: Record<string, number> = { QUEUED: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 2 };
const STEP_RANK: Record<string, number> = { PENDING: 0, RUNNING: 1, DONE: 2, SKIPPED: 2, FAILED: 2 };

/**
 * How far a run has got: its status, then its steps' statuses, then their attempts. Every update
 * the executor publishes moves one of these forward, so a subscription can tell a late (older)
 * update from a new one. (A failed run that is retried goes back to QUEUED, but a subscription
 * ends when the run fails, and a new one starts from there.)
 */
export function runProgress(run: Pick<RunView, "status" | "steps">): number[] {
  let steps = 0;
  let attempts = 0;
  for (const step of run.steps) {
    steps += STEP_RANK[step.status] ?? 0;
    attempts += step.attempts;
  }
  return [RUN_RANK[run.status] ?? 0, steps, attempts];
}

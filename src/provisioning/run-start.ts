// Deciding, under the backend's lock, whether a request starts a run, resumes a failed one or
// joins the active one. At most one run is active per backend.
import type { Transaction } from "../db/advisory-lock.js";
import type { RunKind } from "../generated/prisma/enums.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import { PROVISIONING_STEPS } from "./steps/index.js";

/** Where a kind of run takes the backend while it is active. */
const ACTIVE_STATUS = { PROVISION: "PROVISIONING", TEARDOWN: "TEARING_DOWN" } as const;

/** runId: the run to answer with; enqueue: it (re)starts and must be handed to the queue after commit. */
export type RunStart = { runId: string; enqueue: boolean } | { problem: UserErrorData };

/**
 * Starts a run of `kind`, or joins the active one of the same kind; a failed run of the same kind is
 * resumed from its failed step rather than started over. Call with the backend's lock held.
 */
export async function startRun(tx: Transaction, backendId: string, kind: RunKind): Promise<RunStart> {
  const last = await tx.provisioningRun.findFirst({ where: { backendId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  if (last && (last.status === "QUEUED" || last.status === "RUNNING")) {
    if (last.kind === kind) return { runId: last.id, enqueue: false };
    return {
      problem: { code: UserErrorCode.BACKEND_BUSY, message: `A ${last.kind.toLowerCase()} run is active on this backend; wait for it to finish.`, field: ["id"] },
    };
  }
  await tx.backend.update({ where: { id: backendId }, data: { status: ACTIVE_STATUS[kind] } });
  if (last && last.kind === kind && last.status === "FAILED") {
    await tx.provisioningStep.updateMany({ where: { runId: last.id, status: { in: ["FAILED", "RUNNING"] } }, data: { status: "PENDING", message: null } });
    await tx.provisioningRun.update({ where: { id: last.id }, data: { status: "QUEUED", error: null, finishedAt: null } });
    return { runId: last.id, enqueue: true };
  }
  const steps = kind === "PROVISION" ? PROVISIONING_STEPS : [...PROVISIONING_STEPS].reverse();
  const run = await tx.provisioningRun.create({
    data: { backendId, kind, steps: { create: steps.map((step, position) => ({ position, name: step.name })) } },
  });
  return { runId: run.id, enqueue: true };
}

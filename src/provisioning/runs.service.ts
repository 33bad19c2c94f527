// Starting and reading provisioning runs. At most one active run per backend: the backend row is
// locked while the request decides, so concurrent requests for one backend agree on one run.
import type { Viewer } from "../users/viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { RunKind } from "../generated/prisma/enums.js";
import type { PrismaClient } from "../db/prisma.js";
import type { RunQueue } from "../jobs/run-queue.js";
import type { BackendsService } from "../backends/backends.service.js";
import { assertRole } from "../projects/project-access.js";
import { isUuid, notFound } from "../errors/validation.js";
import type { ProjectAccessService } from "../projects/project-access.js";
import { loadRunView, type RunView } from "./run-view.js";
import { PROVISIONING_STEPS } from "./steps/index.js";

export interface RunResult {
  run?: RunView;
  userErrors: UserErrorData[];
}

/** Where a kind of run takes the backend while it is active. */
const ACTIVE_STATUS = { PROVISION: "PROVISIONING", TEARDOWN: "TEARING_DOWN" } as const;

export class RunsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
    private readonly backends: BackendsService,
    private readonly queue: RunQueue,
    private readonly publish: (run: RunView) => void,
  ) {}

  /** A run, when the caller can see its backend's project. */
  async find(viewer: Viewer, runId: string): Promise<RunView | null> {
    if (!isUuid(runId)) return null;
    const run = await loadRunView(this.prisma, runId);
    if (!run) return null;
    const backend = await this.prisma.backend.findUnique({ where: { id: run.backendId }, select: { projectId: true } });
    return backend && (await this.access.find(viewer, backend.projectId)) ? run : null;
  }

  /**
   * Starts a run of `kind`, or returns the active one of the same kind; a failed run of the same
   * kind is resumed from its failed step rather than started over.
   */
  async request(viewer: Viewer, backendId: string, kind: RunKind): Promise<RunResult> {
    const found = await this.backends.find(viewer, backendId);
    if (!found) return { userErrors: [notFound(["id"], "Backend")] };
    assertRole(found.access, "ADMIN");
    const decision = await this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Backend" WHERE id = ${backendId}::uuid FOR UPDATE`;
      const last = await tx.provisioningRun.findFirst({ where: { backendId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      if (last && (last.status === "QUEUED" || last.status === "RUNNING")) {
        return last.kind === kind ? { runId: last.id, enqueue: false } : { busy: last.kind };
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
    });
    if ("busy" in decision) {
      return {
        userErrors: [{ code: UserErrorCode.BACKEND_BUSY, message: `A ${String(decision.busy).toLowerCase()} run is active on this backend; wait for it to finish.`, field: ["id"] }],
      };
    }
    const run = (await loadRunView(this.prisma, decision.runId)) as RunView;
    if (decision.enqueue) {
      // Published before the job exists, so no worker can publish a later state of the run first
      // (subscribers would see it go back to QUEUED).
      this.publish(run);
      await this.queue.enqueue(decision.runId);
    }
    return { run, userErrors: [] };
  }
}

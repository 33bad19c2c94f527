// deleteBackend(id, teardown: true): tear down what provisioning created, then delete the backend
// when that run succeeds (the run executor finishes the deletion). The backend is marked as being
// deleted meanwhile, so nothing new can be added to it; a failed teardown takes the mark back.
import type { Viewer } from "../users/viewer.js";
import type { UserErrorData } from "../errors/codes.js";
import { notFound } from "../errors/validation.js";
import type { PrismaClient } from "../db/prisma.js";
import type { BackendsService } from "../backends/backends.service.js";
import { activeRunProblem, liveInstancesProblem, provisionedResources, type BackendDeletion } from "../backends/backend-deletion.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { assertRole } from "../projects/project-access.js";
import type { RunView } from "./run-view.js";
import { startRun } from "./run-start.js";
import type { RunsService } from "./runs.service.js";

export interface RemovalResult {
  deletedBackendId?: string;
  /** The teardown run that deletes the backend when it succeeds. */
  run?: RunView;
  userErrors: UserErrorData[];
}

export class BackendRemoval {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly backends: BackendsService,
    private readonly deletion: BackendDeletion,
    private readonly runs: RunsService,
  ) {}

  async delete(viewer: Viewer, backendId: string, options: { teardown: boolean }): Promise<RemovalResult> {
    if (!options.teardown) return this.backends.delete(viewer, backendId);
    const found = await this.backends.find(viewer, backendId);
    if (!found) return { userErrors: [notFound(["id"], "Backend")] };
    assertRole(found.access, "ADMIN");
    const decision = await withBackendLock(this.prisma, backendId, async (tx, backend) => {
      const teardown = await tx.provisioningRun.findFirst({ where: { backendId, kind: "TEARDOWN", status: { in: ["QUEUED", "RUNNING"] } } });
      // Instances would keep the security group (and the backend) alive: they go first.
      const problem = (await liveInstancesProblem(tx, backendId)) ?? (teardown ? null : await activeRunProblem(tx, backendId));
      if (problem) return { problem };
      if (!teardown && !(await provisionedResources(tx, backendId))) return { deleteNow: true as const };
      const start = teardown ? { runId: teardown.id, enqueue: false } : await startRun(tx, backendId, "TEARDOWN");
      if (!("problem" in start)) await tx.backend.update({ where: { id: backendId }, data: { deleteRequestedAt: backend.deleteRequestedAt ?? new Date() } });
      return start;
    });
    if (!decision) return { userErrors: [notFound(["id"], "Backend")] };
    if ("deleteNow" in decision) return this.deletion.delete(backendId);
    return this.runs.announce(decision);
  }
}

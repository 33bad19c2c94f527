// Starting and reading provisioning runs. At most one active run per backend: the request decides
// under the backend's lock, so concurrent requests for one backend agree on one run.
import type { Viewer } from "../users/viewer.js";
import type { UserErrorData } from "../errors/codes.js";
import type { RunKind } from "../generated/prisma/enums.js";
import type { PrismaClient } from "../db/prisma.js";
import type { RunQueue } from "../jobs/run-queue.js";
import type { BackendsService } from "../backends/backends.service.js";
import { assertRole } from "../projects/project-access.js";
import { isUuid, notFound } from "../errors/validation.js";
import type { ProjectAccessService } from "../projects/project-access.js";
import { loadRunView, type RunView } from "./run-view.js";
import { beingDeleted } from "../backends/backend-deletion.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { startRun, type RunStart } from "./run-start.js";

export interface RunResult {
  run?: RunView;
  userErrors: UserErrorData[];
}

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
    const start = await withBackendLock(this.prisma, backendId, async (tx, backend) => {
      if (backend.deleteRequestedAt) {
        // The teardown that deleteBackend(teardown: true) started can be joined; nothing else starts.
        const teardown = await tx.provisioningRun.findFirst({ where: { backendId, kind: "TEARDOWN", status: { in: ["QUEUED", "RUNNING"] } } });
        return teardown && kind === "TEARDOWN" ? { runId: teardown.id, enqueue: false } : { problem: beingDeleted() };
      }
      return startRun(tx, backendId, kind);
    });
    if (!start) return { userErrors: [notFound(["id"], "Backend")] };
    return this.announce(start);
  }

  /** After the commit: the run as it is now, published and handed to the queue when it (re)starts. */
  async announce(start: RunStart): Promise<RunResult> {
    if ("problem" in start) return { userErrors: [start.problem] };
    const run = (await loadRunView(this.prisma, start.runId)) as RunView;
    if (start.enqueue) {
      // Published before the job exists, so no worker can publish a later state of the run first
      // (subscribers would see it go back to QUEUED).
      this.publish(run);
      await this.queue.enqueue(start.runId);
    }
    return { run, userErrors: [] };
  }
}

// The reconciliation capability as the API sees it: a pass now (project ADMIN) and the findings.
import type { BackendsService } from "../backends/backends.service.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Page } from "../db/pagination.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import { notFound } from "../errors/validation.js";
import type { Backend } from "../generated/prisma/client.js";
import { assertRole } from "../projects/project-access.js";
import type { Viewer } from "../users/viewer.js";
import { listFindings, type FindingView } from "./findings.js";
import type { ReconcileScheduler } from "./scheduler.js";

export interface ReconcileResult {
  backend?: Backend;
  userErrors: UserErrorData[];
}

export class ReconciliationService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly backends: BackendsService,
    private readonly scheduler: ReconcileScheduler,
  ) {}

  async reconcileNow(viewer: Viewer, backendId: string): Promise<ReconcileResult> {
    const found = await this.backends.find(viewer, backendId);
    if (!found) return { userErrors: [notFound(["id"], "Backend")] };
    assertRole(found.access, "ADMIN");
    const outcome = await this.scheduler.reconcileNow(backendId);
    const backend = (await this.prisma.backend.findUnique({ where: { id: backendId } })) ?? undefined;
    if (!outcome.done) {
      const message = outcome.reason === "busy" ? "Another reconciliation pass over this backend is still running; try again shortly." : `The pass did not run: ${outcome.reason}.`;
      return { backend, userErrors: [{ code: outcome.reason === "busy" ? UserErrorCode.BACKEND_BUSY : UserErrorCode.AWS_UNAVAILABLE, message, field: ["id"] }] };
    }
    return { backend, userErrors: [] };
  }

  /** Findings of a backend the caller can already see, newest first. */
  findings(backendId: string, first?: number | null, after?: string | null): Promise<Page<FindingView>> {
    return listFindings(this.prisma, backendId, first, after);
  }
}

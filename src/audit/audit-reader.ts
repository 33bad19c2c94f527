// Reading the audit log: a project's ADMINs read their project's events, global admins read
// everything (events with no project too), anyone else is FORBIDDEN. Newest first, as a Relay
// connection whose cursor is the event's position in the chain.
import type { PrismaClient } from "../db/prisma.js";
import { pageRequest, type Page } from "../db/pagination.js";
import { BadUserInputError, ForbiddenError } from "../errors/errors.js";
import { isUuid } from "../errors/validation.js";
import type { AuditEvent, Prisma } from "../generated/prisma/client.js";
import type { AuditOutcome } from "../generated/prisma/enums.js";
import type { ProjectAccessService } from "../projects/project-access.js";
import type { AuditStore, ChainReport } from "./audit-store.js";
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";

export interface AuditEventFilter {
  operation?: string | null;
  actorId?: string | null;
  outcome?: AuditOutcome | null;
  since?: Date | null;
  until?: Date | null;
}

export type AuditEventView = Omit<AuditEvent, "targetIds" | "codes" | "prevHash" | "hash"> & { targetIds: string[]; codes: string[] };

const CURSOR_TAG = "audit";
const SEQ = /^\d{1,19}$/;

const encodeCursor = (seq: bigint): string => Buffer.from(JSON.stringify([CURSOR_TAG, seq.toString()])).toString("base64url");

function decodeCursor(cursor: string): bigint {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(decoded) && decoded.length === 2 && decoded[0] === CURSOR_TAG && typeof decoded[1] === "string" && SEQ.test(decoded[1])) {
      return BigInt(decoded[1]);
    }
  } catch {
    // fall through
  }
  throw new BadUserInputError("`after` is not a cursor this API issued; pass an endCursor from a previous page.", "after");
}

export class AuditReader {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
    private readonly store: AuditStore,
  ) {}

  /** Checks the whole chain: global admins only. */
  async verify(viewer: Viewer): Promise<ChainReport> {
    if (!isGlobalAdmin(viewer)) throw new ForbiddenError("Verifying the audit log needs a global admin.");
    return this.store.verify();
  }

  async list(viewer: Viewer, projectId: string | null | undefined, filter: AuditEventFilter, first?: number | null, after?: string | null): Promise<Page<AuditEventView>> {
    await this.assertMayRead(viewer, projectId ?? null);
    const { take } = pageRequest(first, undefined);
    const afterSeq = after ? decodeCursor(after) : undefined;
    // An actor id that is not a UUID matches no event (and must not reach the uuid column).
    if (filter.actorId && !isUuid(filter.actorId)) return toPage([], take, afterSeq);
    if (projectId && !isUuid(projectId)) return toPage([], take, afterSeq);
    const where: Prisma.AuditEventWhereInput = {
      ...(projectId ? { projectId } : {}),
      ...(filter.operation ? { operation: filter.operation } : {}),
      ...(filter.actorId ? { actorId: filter.actorId } : {}),
      ...(filter.outcome ? { outcome: filter.outcome } : {}),
      ...(filter.since || filter.until ? { at: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } } : {}),
      ...(afterSeq !== undefined ? { seq: { lt: afterSeq } } : {}),
    };
    const rows = await this.prisma.auditEvent.findMany({ where, orderBy: { seq: "desc" }, take, omit: { prevHash: true, hash: true } });
    return toPage(rows.map((row) => ({ ...row, targetIds: row.targetIds as string[], codes: row.codes as string[] })), take, afterSeq);
  }

  private async assertMayRead(viewer: Viewer, projectId: string | null): Promise<void> {
    if (isGlobalAdmin(viewer)) return;
    const access = projectId ? await this.access.find(viewer, projectId) : null;
    if (access?.effectiveRole === "ADMIN") return;
    throw new ForbiddenError(
      projectId
        ? "Reading a project's audit log needs the ADMIN role in that project."
        : "Reading the whole audit log needs a global admin; project ADMINs pass their projectId.",
    );
  }
}

function toPage(rows: AuditEventView[], take: number, afterSeq: bigint | undefined): Page<AuditEventView> {
  const nodes = rows.slice(0, take - 1);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.seq), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > take - 1,
      hasPreviousPage: afterSeq !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

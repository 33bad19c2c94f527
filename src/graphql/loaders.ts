// Per-request DataLoaders: one SQL statement per kind of relation per request, however many
// parents a query touches. Never shared between requests (each caller sees only their data).
import DataLoader from "dataloader";
import type { PrismaClient } from "../db/prisma.js";
import { hotRead, type Queryable } from "../db/hot-read.js";
import type { Backend, Project, ProjectMember, User } from "../generated/prisma/client.js";
import type { RunKind, RunStatus } from "../generated/prisma/enums.js";
import type { RunView, StepView } from "../provisioning/run-view.js";

function groupBy<T>(rows: T[], key: (row: T) => string, keys: readonly string[]): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(key(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

type RunRow = Omit<RunView, "steps">;

/**
 * The newest run of each backend with its steps: two statements for any number of backends. The
 * run is found with one index probe per backend (LATERAL … LIMIT 1 on (backendId, createdAt)),
 * not by reading every run of every backend and keeping the first (Prisma's `distinct` does that
 * in memory, so a backend with a long history cost a full read of it and of all its steps).
 */
async function loadLastRuns(prisma: PrismaClient, backendIds: readonly string[]): Promise<Map<string, RunView>> {
  const runs = await prisma.$queryRaw<RunRow[]>`
    SELECT r.id, r."backendId", r.kind::text AS kind, r.status::text AS status, r.error, r."createdAt", r."startedAt", r."finishedAt"
    FROM unnest(${[...backendIds]}::uuid[]) AS b(id)
    CROSS JOIN LATERAL (
      SELECT * FROM "ProvisioningRun" WHERE "backendId" = b.id ORDER BY "createdAt" DESC, id DESC LIMIT 1
    ) AS r`;
  if (runs.length === 0) return new Map();
  const steps = await prisma.provisioningStep.findMany({
    where: { runId: { in: runs.map((run) => run.id) } },
    orderBy: [{ runId: "asc" }, { position: "asc" }],
    select: { runId: true, name: true, status: true, resourceId: true, attempts: true, message: true, startedAt: true, finishedAt: true },
  });
  const stepsByRun = new Map<string, StepView[]>(runs.map((run) => [run.id, []]));
  for (const { runId, ...step } of steps) stepsByRun.get(runId)?.push(step);
  return new Map(
    runs.map((run) => [run.backendId, { ...run, kind: run.kind as RunKind, status: run.status as RunStatus, steps: stepsByRun.get(run.id) ?? [] }]),
  );
}

/**
 * The backends of projects, on most reads (src/db/hot-read.ts). `*` keeps every column of Prisma's
 * Backend model; test/db/hot-reads.test.ts checks the rows equal what Prisma reads.
 */
export const PROJECT_BACKENDS_SQL = 'SELECT * FROM "Backend" WHERE "projectId" = ANY($1::uuid[]) ORDER BY "createdAt", id';

export function createLoaders(prisma: PrismaClient, pool: Queryable) {
  return {
    user: new DataLoader<string, User | null>(async (ids) => {
      const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    backend: new DataLoader<string, Backend | null>(async (ids) => {
      const rows = await prisma.backend.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** The newest run of each backend, with its steps. */
    lastRun: new DataLoader<string, RunView | null>(async (backendIds) => {
      const runs = await loadLastRuns(prisma, backendIds);
      return backendIds.map((id) => runs.get(id) ?? null);
    }),
    project: new DataLoader<string, Project | null>(async (ids) => {
      const rows = await prisma.project.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** Members of each project with their users, oldest membership first. */
    projectMembers: new DataLoader<string, (ProjectMember & { user: User })[]>(async (projectIds) => {
      const rows = await prisma.projectMember.findMany({
        where: { projectId: { in: [...projectIds] } },
        include: { user: true },
        orderBy: [{ createdAt: "asc" }, { userId: "asc" }],
      });
      return groupBy(rows, (row) => row.projectId, projectIds);
    }),
    /** Every backend of each project in (createdAt, id) order; pages are cut from it. */
    projectBackends: new DataLoader<string, Backend[]>(async (projectIds) => {
      const rows = await hotRead<Backend>(pool, PROJECT_BACKENDS_SQL, [projectIds]);
      return groupBy(rows, (row) => row.projectId, projectIds);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

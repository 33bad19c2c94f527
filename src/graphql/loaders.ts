// Per-request DataLoaders: one SQL statement per kind of relation per request, however many
// parents a query touches. Never shared between requests (each caller sees only their data).
import DataLoader from "dataloader";
import type { PrismaClient } from "../db/prisma.js";
import type { Backend, Project, ProjectMember, User } from "../generated/prisma/client.js";
import { loadLastRunViews, type RunView } from "../provisioning/run-view.js";

function groupBy<T>(rows: T[], key: (row: T) => string, keys: readonly string[]): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(key(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

export function createLoaders(prisma: PrismaClient) {
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
      const runs = await loadLastRunViews(prisma, backendIds);
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
      const rows = await prisma.backend.findMany({
        where: { projectId: { in: [...projectIds] } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      });
      return groupBy(rows, (row) => row.projectId, projectIds);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

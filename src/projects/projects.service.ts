import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { ProjectRole } from "../generated/prisma/enums.js";
import { Prisma, type Project } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { afterKey, keysetOrder, pageRequest, toPage, type Page } from "../db/pagination.js";
import { assertRole, ProjectAccessService, type ProjectAccess } from "./project-access.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { checkSlug, checkText, compact, isUuid, normalizeName, notFound } from "../errors/validation.js";

export interface ProjectResult {
  project?: Project;
  userErrors: UserErrorData[];
}

const PROJECT_NOT_FOUND = (field = ["id"]) => notFound(field, "Project");
const nameTaken = (name: string): UserErrorData => ({
  code: UserErrorCode.NAME_TAKEN,
  message: `A project named "${name}" already exists.`,
  field: ["input", "name"],
});

export class ProjectsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
  ) {}

  /** Projects the caller is a member of (a global admin sees all), oldest first. */
  async list(viewer: Viewer, first?: number | null, after?: string | null): Promise<Page<Project>> {
    const request = pageRequest(first, after);
    const visible = isGlobalAdmin(viewer) ? {} : { members: { some: { userId: viewer.userId } } };
    const rows = await this.prisma.project.findMany({
      where: { AND: [visible, afterKey(request.after)] },
      orderBy: keysetOrder,
      take: request.take,
    });
    return toPage(rows, request);
  }

  async get(viewer: Viewer, by: { id?: string | null; name?: string | null }): Promise<ProjectAccess | null> {
    if (by.id) return this.access.find(viewer, by.id);
    // A name that is not a valid slug names no project (and may hold bytes PostgreSQL refuses).
    const name = by.name ? normalizeName(by.name) : null;
    if (!name || checkSlug(name, ["name"])) return null;
    const project = await this.prisma.project.findUnique({ where: { name } });
    return project ? this.access.find(viewer, project.id) : null;
  }

  async create(viewer: Viewer, raw: { name: string; description?: string | null }): Promise<ProjectResult> {
    const input = { ...raw, name: normalizeName(raw.name) };
    const userErrors = compact([checkSlug(input.name, ["input", "name"], "Project name"), checkText(input.description, ["input", "description"], 1000, "Description")]);
    if (userErrors.length) return { userErrors };
    try {
      const project = await this.prisma.project.create({
        data: { name: input.name, description: input.description ?? null, members: { create: { userId: viewer.userId, role: "ADMIN" } } },
      });
      return { project, userErrors: [] };
    } catch (error) {
      if (isUniqueViolation(error)) return { userErrors: [nameTaken(input.name)] };
      throw error;
    }
  }

  async update(viewer: Viewer, id: string, raw: { name?: string | null; description?: string | null }): Promise<ProjectResult> {
    const input = { ...raw, name: raw.name == null ? raw.name : normalizeName(raw.name) };
    const access = await this.access.require(viewer, id, "ADMIN");
    if (!access) return { userErrors: [PROJECT_NOT_FOUND()] };
    const userErrors = compact([
      input.name != null ? checkSlug(input.name, ["input", "name"], "Project name") : undefined,
      checkText(input.description, ["input", "description"], 1000, "Description"),
    ]);
    if (userErrors.length) return { userErrors };
    try {
      const project = await this.prisma.project.update({
        where: { id },
        data: { ...(input.name != null ? { name: input.name } : {}), ...(input.description !== undefined ? { description: input.description } : {}) },
      });
      return { project, userErrors: [] };
    } catch (error) {
      if (isUniqueViolation(error)) return { userErrors: [nameTaken(input.name ?? "")] };
      throw error;
    }
  }

  async delete(viewer: Viewer, id: string): Promise<{ deletedProjectId?: string; userErrors: UserErrorData[] }> {
    const access = await this.access.require(viewer, id, "ADMIN");
    if (!access) return { userErrors: [PROJECT_NOT_FOUND()] };
    const backends = await this.prisma.backend.count({ where: { projectId: id } });
    const busy = (count: number): UserErrorData => ({
      code: UserErrorCode.BACKEND_BUSY,
      message: count > 0 ? `The project still has ${count} backend(s); delete them first.` : "The project still has backends; delete them first.",
      field: ["id"],
    });
    if (backends > 0) return { userErrors: [busy(backends)] };
    try {
      await this.prisma.project.delete({ where: { id } });
    } catch (error) {
      // Races with a concurrent request: the project was deleted meanwhile (P2025), or a backend
      // was created meanwhile and the RESTRICT foreign key refused the delete (P2003).
      const code = error instanceof Prisma.PrismaClientKnownRequestError ? error.code : undefined;
      if (code === "P2025") return { userErrors: [PROJECT_NOT_FOUND()] };
      if (code === "P2003") return { userErrors: [busy(0)] };
      throw error;
    }
    return { deletedProjectId: id, userErrors: [] };
  }

  async setMember(viewer: Viewer, projectId: string, input: { userId: string; role: ProjectRole }): Promise<ProjectResult> {
    const access = await this.access.require(viewer, projectId, "ADMIN");
    if (!access) return { userErrors: [PROJECT_NOT_FOUND(["projectId"])] };
    const user = isUuid(input.userId) ? await this.prisma.user.findUnique({ where: { id: input.userId } }) : null;
    if (!user) return { userErrors: [notFound(["input", "userId"], "User")] };
    return this.changeMembership(projectId, input.userId, ["input", "role"], input.role);
  }

  /** Removes a member; an ADMIN removes anyone, and any member may leave. */
  async removeMember(viewer: Viewer, projectId: string, userId: string): Promise<ProjectResult> {
    const access = await this.access.find(viewer, projectId);
    if (!access) return { userErrors: [PROJECT_NOT_FOUND(["projectId"])] };
    if (userId !== viewer.userId) assertRole(access, "ADMIN");
    return this.changeMembership(projectId, userId, ["userId"], null);
  }

  /**
   * Sets (role) or removes (null) a membership. The project's member rows are locked first so
   * that two concurrent demotions cannot both pass the last-admin check.
   */
  private async changeMembership(projectId: string, userId: string, field: string[], role: ProjectRole | null): Promise<ProjectResult> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "Project" WHERE id = ${projectId}::uuid FOR UPDATE`;
      const members = await tx.projectMember.findMany({ where: { projectId } });
      const current = members.find((member) => member.userId === userId);
      if (!current && role === null) return { userErrors: [notFound(field, "Member")] };
      const admins = members.filter((member) => member.role === "ADMIN");
      if (current?.role === "ADMIN" && role !== "ADMIN" && admins.length === 1) {
        return {
          userErrors: [{ code: UserErrorCode.LAST_ADMIN, message: "A project needs at least one ADMIN; make another member ADMIN first.", field }],
        };
      }
      if (role === null) await tx.projectMember.delete({ where: { projectId_userId: { projectId, userId } } });
      else await tx.projectMember.upsert({ where: { projectId_userId: { projectId, userId } }, create: { projectId, userId, role }, update: { role } });
      const project = await tx.project.update({ where: { id: projectId }, data: { updatedAt: new Date() } });
      return { project, userErrors: [] };
    });
  }
}

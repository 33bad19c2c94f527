// Who may see and change a project. A project the caller cannot see does not exist for them
// (null); a project they see but lack the role for is FORBIDDEN.
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import { ForbiddenError } from "../errors/errors.js";
import type { ProjectRole } from "../generated/prisma/enums.js";
import type { Project } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { roleAtLeast } from "./roles.js";
import { isUuid } from "../errors/validation.js";

export interface ProjectAccess {
  project: Project;
  /** The caller's own membership role; null for a global admin who is not a member. */
  memberRole: ProjectRole | null;
  /** What the caller may do: a global admin acts as ADMIN everywhere. */
  effectiveRole: ProjectRole;
}

export class ProjectAccessService {
  constructor(private readonly prisma: PrismaClient) {}

  /** The caller's access to a project, or null when it does not exist or is not visible. */
  async find(viewer: Viewer, projectId: string): Promise<ProjectAccess | null> {
    if (!isUuid(projectId)) return null;
    const project = await this.prisma.project.findUnique({
      where: { id: projectId },
      include: { members: { where: { userId: viewer.userId } } },
    });
    if (!project) return null;
    const { members, ...plain } = project;
    return toAccess(viewer, plain, members[0]?.role ?? null);
  }

  /** Like find, then FORBIDDEN unless the caller has at least `role`. */
  async require(viewer: Viewer, projectId: string, role: ProjectRole): Promise<ProjectAccess | null> {
    const access = await this.find(viewer, projectId);
    if (access) assertRole(access, role);
    return access;
  }
}

export function toAccess(viewer: Viewer, project: Project, memberRole: ProjectRole | null): ProjectAccess | null {
  if (memberRole === null && !isGlobalAdmin(viewer)) return null;
  return { project, memberRole, effectiveRole: isGlobalAdmin(viewer) ? "ADMIN" : (memberRole as ProjectRole) };
}

export function assertRole(access: ProjectAccess, role: ProjectRole): void {
  if (!roleAtLeast(access.effectiveRole, role)) {
    throw new ForbiddenError(`This needs the ${role} role in project "${access.project.name}"; you have ${access.effectiveRole}.`);
  }
}

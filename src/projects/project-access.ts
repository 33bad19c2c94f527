// Who may see and change a project. A project the caller cannot see does not exist for them
// (null); a project they see but lack the role for is FORBIDDEN.
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import { ForbiddenError } from "../errors/errors.js";
import type { ProjectRole } from "../generated/prisma/enums.js";
import type { Project } from "../generated/prisma/client.js";
import { hotRead, type Queryable } from "../db/hot-read.js";
import { roleAtLeast } from "./roles.js";
import { isUuid } from "../errors/validation.js";

export interface ProjectAccess {
  project: Project;
  /** The caller's own membership role; null for a global admin who is not a member. */
  memberRole: ProjectRole | null;
  /** What the caller may do: a global admin acts as ADMIN everywhere. */
  effectiveRole: ProjectRole;
}

/**
 * Most operations start here: the project and the caller's membership in one statement (see
 * Queryable). `p.*` keeps every column of Prisma's Project model; test/db/hot-reads.test.ts
 * checks the row equals what Prisma reads.
 */
export const PROJECT_ACCESS_SQL =
  'SELECT p.*, m.role AS "memberRole" FROM "Project" p LEFT JOIN "ProjectMember" m ON m."projectId" = p.id AND m."userId" = $2 WHERE p.id = $1';

export class ProjectAccessService {
  constructor(private readonly pool: Queryable) {}

  /** The caller's access to a project, or null when it does not exist or is not visible. */
  async find(viewer: Viewer, projectId: string): Promise<ProjectAccess | null> {
    if (!isUuid(projectId)) return null;
    const [row] = await hotRead<Project & { memberRole: ProjectRole | null }>(this.pool, PROJECT_ACCESS_SQL, [projectId, viewer.userId]);
    if (!row) return null;
    const { memberRole, ...project } = row;
    return toAccess(viewer, project, memberRole);
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

import type { ProjectRole } from "../generated/prisma/enums.js";

const RANK: Record<ProjectRole, number> = { VIEWER: 1, USER: 2, ADMIN: 3 };

/** True when `role` grants at least what `required` grants (ADMIN ⊇ USER ⊇ VIEWER). */
export const roleAtLeast = (role: ProjectRole | null | undefined, required: ProjectRole): boolean =>
  role != null && RANK[role] >= RANK[required];

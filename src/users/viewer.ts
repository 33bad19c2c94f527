import type { GlobalRole } from "../generated/prisma/enums.js";

/** The authenticated caller of a request. */
export interface Viewer {
  userId: string;
  userName: string;
  globalRole: GlobalRole;
  tokenId: string;
  /** The token's display prefix (what the audit log records; never the token). */
  tokenPrefix: string;
}

export const isGlobalAdmin = (viewer: Viewer): boolean => viewer.globalRole === "ADMIN";

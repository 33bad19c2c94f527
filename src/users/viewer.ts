import type { GlobalRole } from "../generated/prisma/enums.js";

/** The authenticated caller of a request. */
export interface Viewer {
  userId: string;
  userName: string;
  globalRole: GlobalRole;
  tokenId: string;
}

export const isGlobalAdmin = (viewer: Viewer): boolean => viewer.globalRole === "ADMIN";

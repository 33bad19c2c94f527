// The service layer, wired once per process. Resolvers reach services only through this object.
import type { PrismaClient } from "../db/prisma.js";
import { ProjectAccessService } from "./project-access.js";
import { ProjectsService } from "./projects.service.js";
import { TokensService } from "./tokens.service.js";
import { UsersService } from "./users.service.js";

export function createServices(prisma: PrismaClient) {
  const access = new ProjectAccessService(prisma);
  return {
    access,
    users: new UsersService(prisma),
    tokens: new TokensService(prisma),
    projects: new ProjectsService(prisma, access),
  };
}

export type Services = ReturnType<typeof createServices>;

import { generateApiToken, displayPrefix, hashApiToken } from "./api-token.js";
import { isGlobalAdmin, type Viewer } from "./viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import { ForbiddenError } from "../errors/errors.js";
import type { GlobalRole } from "../generated/prisma/enums.js";
import type { User } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { checkUserName, normalizeName } from "../errors/validation.js";

export interface CreateUserResult {
  user?: User;
  /** The new user's first API token, shown once. */
  token?: string;
  userErrors: UserErrorData[];
}

/** Arbitrary constant: the advisory lock under which the first admin is created. */
const BOOTSTRAP_LOCK_KEY = 72_707_370;

export class UsersService {
  constructor(private readonly prisma: PrismaClient) {}

  async createUser(viewer: Viewer, input: { name: string; globalRole?: GlobalRole | null }): Promise<CreateUserResult> {
    if (!isGlobalAdmin(viewer)) throw new ForbiddenError("Only a global admin can create users.");
    const name = normalizeName(input.name);
    const problem = checkUserName(name, ["input", "name"]);
    if (problem) return { userErrors: [problem] };
    const token = generateApiToken();
    try {
      const user = await this.prisma.user.create({
        data: {
          name,
          globalRole: input.globalRole ?? "USER",
          tokens: { create: { name: "initial", prefix: displayPrefix(token), tokenHash: hashApiToken(token) } },
        },
      });
      return { user, token, userErrors: [] };
    } catch (error) {
      if (isUniqueViolation(error)) {
        return { userErrors: [{ code: UserErrorCode.NAME_TAKEN, message: `A user named "${name}" already exists.`, field: ["input", "name"] }] };
      }
      throw error;
    }
  }

  /**
   * On an empty database, creates the admin user with `adminToken` (or a generated token) and
   * returns the token so the caller can print it once. Servers starting together take turns.
   */
  async bootstrapAdmin(adminToken: string | undefined): Promise<{ token: string; generated: boolean } | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY}::bigint)`;
      if ((await tx.user.count()) > 0) return null;
      const token = adminToken ?? generateApiToken();
      await tx.user.create({
        data: {
          name: "admin",
          globalRole: "ADMIN",
          tokens: { create: { name: "bootstrap", prefix: displayPrefix(token), tokenHash: hashApiToken(token) } },
        },
      });
      return { token, generated: adminToken === undefined };
    });
  }
}

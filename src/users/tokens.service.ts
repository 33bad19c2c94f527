import { displayPrefix, generateApiToken, hashApiToken } from "./api-token.js";
import { isGlobalAdmin, type Viewer } from "./viewer.js";
import type { UserErrorData } from "../errors/codes.js";
import type { ApiToken } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { hotRead, type Queryable } from "../db/hot-read.js";
import { checkText, compact, invalid, isUuid, notFound } from "../errors/validation.js";

/** lastUsedAt is refreshed at most this often, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Every request runs this: the token and its user in one statement (src/db/hot-read.ts). */
export const TOKEN_VIEWER_SQL =
  'SELECT t.id, t."userId", t.prefix, t."lastUsedAt", t."expiresAt", t."revokedAt", u.name AS "userName", u."globalRole" FROM "ApiToken" t JOIN "User" u ON u.id = t."userId" WHERE t."tokenHash" = $1';
export const TOUCH_TOKEN_SQL = 'UPDATE "ApiToken" SET "lastUsedAt" = $1 WHERE id = $2';

interface TokenViewerRow {
  id: string;
  userId: string;
  prefix: string;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  userName: string;
  globalRole: Viewer["globalRole"];
}

export class TokensService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: Queryable,
  ) {}

  /** The caller behind a bearer token, or null for an unknown, revoked or expired token. */
  async authenticate(token: string): Promise<Viewer | null> {
    const [found] = await hotRead<TokenViewerRow>(this.pool, TOKEN_VIEWER_SQL, [hashApiToken(token)]);
    const now = new Date();
    if (!found || found.revokedAt || (found.expiresAt && found.expiresAt <= now)) return null;
    if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // An ISO string, not a Date: pg would write a Date in local time, Prisma's columns hold UTC.
      await this.pool.query(TOUCH_TOKEN_SQL, [now.toISOString(), found.id]);
    }
    return { userId: found.userId, userName: found.userName, globalRole: found.globalRole, tokenId: found.id, tokenPrefix: found.prefix };
  }

  async create(viewer: Viewer, input: { name: string; expiresAt?: Date | null }): Promise<{ apiToken?: ApiToken; token?: string; userErrors: UserErrorData[] }> {
    const userErrors = compact([
      input.name.trim() === "" ? invalid(["input", "name"], "Token name must not be empty.") : undefined,
      checkText(input.name, ["input", "name"], 100, "Token name"),
      input.expiresAt && input.expiresAt <= new Date() ? invalid(["input", "expiresAt"], "expiresAt must be in the future.") : undefined,
    ]);
    if (userErrors.length) return { userErrors };
    const token = generateApiToken();
    const apiToken = await this.prisma.apiToken.create({
      data: { userId: viewer.userId, name: input.name, prefix: displayPrefix(token), tokenHash: hashApiToken(token), expiresAt: input.expiresAt ?? null },
    });
    return { apiToken, token, userErrors: [] };
  }

  /** Revokes one of the caller's tokens (a global admin may revoke anyone's). Idempotent. */
  async revoke(viewer: Viewer, id: string): Promise<{ apiToken?: ApiToken; userErrors: UserErrorData[] }> {
    const found = isUuid(id) ? await this.prisma.apiToken.findUnique({ where: { id } }) : null;
    if (!found || (found.userId !== viewer.userId && !isGlobalAdmin(viewer))) {
      return { userErrors: [notFound(["id"], "API token")] };
    }
    const apiToken = found.revokedAt ? found : await this.prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    return { apiToken, userErrors: [] };
  }

  /** Whether a token still authenticates (not revoked, not expired). */
  async isActive(tokenId: string): Promise<boolean> {
    const token = await this.prisma.apiToken.findUnique({ where: { id: tokenId }, select: { revokedAt: true, expiresAt: true } });
    return !!token && !token.revokedAt && !(token.expiresAt && token.expiresAt <= new Date());
  }

  listForUser(userId: string): Promise<ApiToken[]> {
    return this.prisma.apiToken.findMany({ where: { userId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  }
}

// API tokens: 32 random bytes, shown once, stored only as a SHA-256 hash plus a short prefix
// that helps a user recognise which token is which.
import { createHash, randomBytes } from "node:crypto";

const TOKEN_PREFIX = "bh_";
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;

export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function displayPrefix(token: string): string {
  return token.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

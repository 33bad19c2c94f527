// Input rules shared by services. Each check returns a UserErrorData on the given field, or
// nothing, so a service can collect every problem of an input at once.
import { UserErrorCode, type UserErrorData } from "./codes.js";

const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);

export function invalid(field: string[], message: string): UserErrorData {
  return { code: UserErrorCode.INVALID_INPUT, message, field };
}

export function notFound(field: string[], what: string): UserErrorData {
  return { code: UserErrorCode.NOT_FOUND, message: `${what} not found.`, field };
}

/** Project and backend names: lower-case letters, digits and '-', 3 to 50 characters. */
export function checkSlug(value: string, field: string[], what = "Name"): UserErrorData | undefined {
  if (value.length < 3 || value.length > 50) {
    return invalid(field, `${what} must be 3 to 50 characters long (got ${value.length}).`);
  }
  if (!SLUG.test(value)) {
    return invalid(field, `${what} may contain only lower-case letters, digits and '-', and must start and end with a letter or digit.`);
  }
  return undefined;
}

/** User names: 1 to 64 printable characters without surrounding spaces. */
export function checkUserName(value: string, field: string[]): UserErrorData | undefined {
  if (value.length < 1 || value.length > 64) return invalid(field, `User name must be 1 to 64 characters long (got ${value.length}).`);
  if (value.trim() !== value || /[\p{Cc}]/u.test(value)) {
    return invalid(field, "User name must not have surrounding spaces or control characters.");
  }
  return undefined;
}

export function checkText(value: string | null | undefined, field: string[], max: number, what: string): UserErrorData | undefined {
  if (value == null) return undefined;
  if (value.length > max) return invalid(field, `${what} must be at most ${max} characters long (got ${value.length}).`);
  // PostgreSQL text cannot hold U+0000; letting it through fails the insert with a 500.
  if (value.includes("\u0000")) return invalid(field, `${what} must not contain NUL characters.`);
  return undefined;
}

export const compact = <T>(items: (T | undefined)[]): T[] => items.filter((item): item is T => item !== undefined);

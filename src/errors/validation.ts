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

/**
 * Invisible and bidirectional control characters (Unicode categories Cf and Cc: zero-width spaces,
 * right-to-left overrides, NUL…): in a name they make two different names look the same, or make a
 * name read differently from what it is.
 */
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;

/** A name as it is stored and compared: Unicode NFC, so "é" typed either way is the same name. */
export const normalizeName = (value: string): string => value.normalize("NFC");

/** Length as people count characters: Unicode code points (an emoji is one), not UTF-16 units. */
export const codePoints = (value: string): number => [...value].length;

const codePointName = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

function invisibleProblem(value: string, field: string[], what: string): UserErrorData | undefined {
  const found = [...new Set(value.match(INVISIBLE) ?? [])];
  if (found.length === 0) return undefined;
  return invalid(field, `${what} must not contain invisible or bidirectional control characters (found ${found.map(codePointName).join(", ")}).`);
}

/** Project and backend names (NFC-normalised by the caller): lower-case letters, digits and '-', 3 to 50 characters. */
export function checkSlug(value: string, field: string[], what = "Name"): UserErrorData | undefined {
  const invisible = invisibleProblem(value, field, what);
  if (invisible) return invisible;
  const length = codePoints(value);
  if (length < 3 || length > 50) {
    return invalid(field, `${what} must be 3 to 50 characters (Unicode code points) long (got ${length}).`);
  }
  if (!SLUG.test(value)) {
    return invalid(field, `${what} may contain only lower-case letters, digits and '-', and must start and end with a letter or digit.`);
  }
  return undefined;
}

/** User names (NFC-normalised by the caller): 1 to 64 visible characters without surrounding spaces. */
export function checkUserName(value: string, field: string[]): UserErrorData | undefined {
  const invisible = invisibleProblem(value, field, "User name");
  if (invisible) return invisible;
  const length = codePoints(value);
  if (length < 1 || length > 64) return invalid(field, `User name must be 1 to 64 characters (Unicode code points) long (got ${length}).`);
  if (value.trim() !== value) return invalid(field, "User name must not have surrounding spaces.");
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

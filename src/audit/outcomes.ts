// A mutation's outcome as the audit log records it: OK, USER_ERROR with the userErrors codes,
// DENIED (not allowed: unauthenticated, forbidden, rate limited) or FAILED with the error code.
import { isDatabaseUnavailable } from "../db/availability.js";
import { ErrorCode, UserErrorCode } from "../errors/codes.js";
import type { AuditOutcome } from "../generated/prisma/enums.js";

export interface Outcome {
  outcome: AuditOutcome;
  codes: string[];
}

const DENIED = new Set<string>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.RATE_LIMITED]);
const USER_ERRORS = new Set<string>([ErrorCode.BAD_USER_INPUT, ...Object.values(UserErrorCode)]);
/** Codes are written by this service; anything else is recorded as an internal error, not copied. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

const safeCode = (code: unknown): string | undefined => (typeof code === "string" && CODE.test(code) ? code : undefined);

/** From what the mutation returned: its userErrors, if any. */
export function outcomeOfPayload(payload: unknown): Outcome {
  const userErrors = (payload as { userErrors?: unknown } | null | undefined)?.userErrors;
  if (!Array.isArray(userErrors) || userErrors.length === 0) return { outcome: "OK", codes: [] };
  const codes = new Set(userErrors.map((error) => safeCode((error as { code?: unknown })?.code) ?? ErrorCode.INTERNAL_SERVER_ERROR));
  return { outcome: "USER_ERROR", codes: [...codes] };
}

/** From what the mutation threw. */
export function outcomeOfError(error: unknown): Outcome {
  const code = safeCode((error as { extensions?: { code?: unknown } } | null | undefined)?.extensions?.code);
  if (code && DENIED.has(code)) return { outcome: "DENIED", codes: [code] };
  if (code && USER_ERRORS.has(code)) return { outcome: "USER_ERROR", codes: [code] };
  if (isDatabaseUnavailable(error)) return { outcome: "FAILED", codes: [ErrorCode.SERVICE_UNAVAILABLE] };
  return { outcome: "FAILED", codes: [code ?? ErrorCode.INTERNAL_SERVER_ERROR] };
}

// The one place that decides what an error looks like to a client, over HTTP and WebSocket alike.
// Known, coded errors pass through, without the values they would echo and (with introspection
// off) without field suggestions; anything else is masked as INTERNAL_SERVER_ERROR with a
// correlation id that also appears in the log line holding the details. Stack traces only with
// DEBUG_ERRORS.
import { randomUUID } from "node:crypto";
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ErrorCode, UserErrorCode } from "../../errors/codes.js";
import type { Logger } from "../../logging/logger.js";
import { isDatabaseUnavailable } from "../../db/availability.js";
import { withoutSuggestions } from "./query-limits.js";

/** Codes whose messages were written for clients. */
const CLIENT_SAFE_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  ...Object.values(UserErrorCode),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "INTROSPECTION_DISABLED",
  "MAX_RECURSIVE_SELECTIONS_EXCEEDED",
]);

export interface FormatErrorOptions {
  /** DEBUG_ERRORS: keep stack traces. */
  debug: boolean;
  /** INTROSPECTION=false: "Did you mean …?" would reveal the schema. */
  hideSuggestions: boolean;
}

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

export function createFormatError(logger: Logger, { debug, hideSuggestions }: FormatErrorOptions): FormatError {
  const clientMessage = (message: string) => (hideSuggestions ? withoutSuggestions(message) : message);
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    const code = requestErrorCode(formatted, original) ?? formatted.extensions?.code;
    const { stacktrace, ...extensions } = formatted.extensions ?? {};
    if (typeof code === "string" && CLIENT_SAFE_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return {
        ...formatted,
        message: clientMessage(withoutEchoedValues(withoutQuotedVariable(formatted.message, original))),
        extensions: { ...(debug ? formatted.extensions : extensions), code },
      };
    }
    if (isDatabaseUnavailable(original) || isDatabaseUnavailable(causeOf(original))) {
      return {
        message: "The service is temporarily unavailable (its database cannot be reached); retry shortly.",
        path: formatted.path,
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
      };
    }
    const correlationId = randomUUID();
    logger.error({ err: causeOf(original), correlationId, path: formatted.path }, "unexpected error");
    return {
      message: `Internal server error (correlation id ${correlationId}).`,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId, ...(debug ? { stacktrace } : {}) },
    };
  };
}

/** The error a GraphQLError wraps (its message and stack are the ones worth logging). */
const causeOf = (error: unknown): unknown => (error instanceof GraphQLError && error.originalError ? error.originalError : error);

/**
 * What Apollo does to an error before its formatError sees it, for the doors Apollo does not serve
 * (WebSocket): an uncoded error counts as INTERNAL_SERVER_ERROR, the `http` extension (status and
 * headers for HTTP) is dropped, and DEBUG_ERRORS adds the stack trace.
 */
export function formatForClient(error: GraphQLError, formatError: FormatError, debug: boolean): GraphQLFormattedError {
  const { http: _http, ...extensions } = error.extensions;
  const formatted = error.toJSON();
  return formatError(
    {
      ...formatted,
      extensions: { ...extensions, code: extensions.code ?? ErrorCode.INTERNAL_SERVER_ERROR, ...(debug ? { stacktrace: error.stack?.split("\n") } : {}) },
    },
    error,
  );
}

/**
 * Apollo refuses some malformed requests with an uncoded GraphQLError carrying only an HTTP 4xx
 * ("provided sha does not match query", "Unsupported persisted query version"); uncoded, they
 * would be masked and logged as internal errors. A request-level error (no path) with a 4xx
 * status is the client's: BAD_REQUEST.
 */
function requestErrorCode(formatted: GraphQLFormattedError, original: unknown): string | undefined {
  if (formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR || formatted.path) return undefined;
  const error = original as { extensions?: { code?: unknown; http?: { status?: unknown } } } | undefined;
  const status = error?.extensions?.http?.status;
  return error?.extensions?.code === undefined && typeof status === "number" && status >= 400 && status < 500 ? "BAD_REQUEST" : undefined;
}

/**
 * graphql-js quotes a whole invalid variable in its message ("Variable "$input" got invalid value
 * { …, secretAccessKey: "…" }"), which would send a secret back. Keep the variable, the path
 * and the reason; drop the value.
 */
function withoutQuotedVariable(message: string, error: unknown): string {
  const head = /^Variable "\$[^"]+" got invalid value /.exec(message);
  if (!head) return message;
  const reason = (error as { originalError?: { message?: unknown } } | undefined)?.originalError?.message;
  if (typeof reason !== "string" || !message.endsWith(`; ${reason}`)) return `${head[0].trimEnd()}.`;
  const quoted = message.slice(head[0].length, message.length - reason.length - 2);
  const at = / at "([^"]*)"$/.exec(quoted);
  return `${head[0].replace(/ got invalid value $/, " got an invalid value")}${at ? ` at "${at[1]}"` : ""}: ${reason}`;
}

/**
 * graphql-js also quotes the offending value in scalar coercion reasons ("String cannot represent
 * a non string value: …"), enum misses ("Value "…" does not exist in …") and literal validation
 * ("Expected value of type "T", found …"). Any of them could be a secret: keep what was expected,
 * drop what was sent.
 */
export function withoutEchoedValues(message: string): string {
  return message
    .replace(/(cannot represent[^:;]*?value)\s*:[\s\S]*$/i, "$1.")
    .replace(/(cannot represent an invalid [\w-]+)\s[\s\S]*$/i, "$1.")
    .replace(/^Value "[\s\S]*?" does not exist in ("[^"]+" enum)/, "The value does not exist in $1")
    .replace(/(Expected value of type "[^"]+", found) [\s\S]*?(;|\.$)/, "$1 an invalid value$2");
}

// Job and runner logs of a backend, paged with opaque cursors that wrap AWS's own token together
// with the query they belong to (a cursor cannot be replayed against another query).
import { createHash } from "node:crypto";
import { filterLogEvents, type LogEvent } from "../aws/compute/logs.js";
import type { Viewer } from "../users/viewer.js";
import { AwsQueryError, BadUserInputError } from "../errors/errors.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from "../db/pagination.js";
import type { BackendsService } from "../backends/backends.service.js";
import { scopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";

export type LogGroupKind = "JOBS" | "RUNNERS";

export interface LogQuery {
  group: LogGroupKind;
  streamPrefix?: string | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

/** The token in the cursors of the last page's edges (AWS's tokens are never empty). */
const END_OF_EVENTS = "";

const groupName = (kind: LogGroupKind, bucket: string) => `/dstack/${kind === "JOBS" ? "jobs" : "runners"}/${bucket}`;

export function opaqueAwsCursor(token: string, fingerprint: string): string {
  return Buffer.from(JSON.stringify([fingerprint, token])).toString("base64url");
}

export function readAwsCursor(cursor: string, fingerprint: string): string {
  try {
    const [boundTo, token] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (boundTo === fingerprint && typeof token === "string") return token;
  } catch {
    // fall through
  }
  throw new BadUserInputError("`after` is not a cursor of this query; pass an endCursor from a previous page of the same query.", "after");
}

export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw new BadUserInputError(`\`first\` must be between 1 and ${MAX_PAGE_SIZE} (got ${size}).`, "first");
  return size;
}

export const fingerprintOf = (...parts: unknown[]) => createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);

export class LogsService {
  constructor(private readonly backends: BackendsService) {}

  async events(viewer: Viewer, backendId: string, query: LogQuery): Promise<Page<LogEvent>> {
    const limit = pageSize(query.first);
    const scoped = await scopedBackend(this.backends, viewer, backendId, "VIEWER");
    if (!scoped) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
    const fingerprint = fingerprintOf(backendId, query.group, query.streamPrefix, query.since?.toISOString(), query.until?.toISOString());
    const nextToken = query.after ? readAwsCursor(query.after, fingerprint) : null;
    // The cursor of an edge on the last page: nothing follows it (without this it would restart at the first page).
    if (nextToken === END_OF_EVENTS) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null } };
    const page = await filterLogEvents(scoped.session, scoped.backend.awsRegion, {
      group: groupName(query.group, scoped.backend.awsBucket),
      streamPrefix: query.streamPrefix,
      startTime: query.since,
      endTime: query.until,
      limit,
      nextToken,
    });
    if (!page.ok) throw new AwsQueryError(awsUserError(page.error, ["backendId"]));
    const endCursor = page.value.nextToken ? opaqueAwsCursor(page.value.nextToken, fingerprint) : null;
    return {
      // CloudWatch pages only resume at a page boundary: every edge carries the page's end.
      edges: page.value.events.map((node) => ({ cursor: endCursor ?? opaqueAwsCursor(END_OF_EVENTS, fingerprint), node })),
      pageInfo: { hasNextPage: endCursor !== null, hasPreviousPage: Boolean(query.after), startCursor: null, endCursor },
    };
  }
}

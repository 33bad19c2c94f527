// Relay connections over keyset pagination on (createdAt, id). Cursors are opaque to clients:
// base64url of the sort key of the last row seen.
import { BadUserInputError } from "../errors/errors.js";
import { isUuid } from "../errors/validation.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export interface SortKey {
  createdAt: Date;
  id: string;
}

export interface PageRequest {
  take: number;
  after?: SortKey;
}

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify([key.createdAt.toISOString(), key.id])).toString("base64url");
}

/** What encodeCursor writes: an ISO timestamp (4-digit year, milliseconds, UTC) and a UUID. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function decodeCursor(cursor: string): SortKey {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(decoded) || decoded.length !== 2) throw new Error("bad cursor");
    const [createdAt, id] = decoded as unknown[];
    // Anything else would reach the database as a bad uuid/timestamp and fail there (a 500).
    if (typeof createdAt !== "string" || !CURSOR_TIME.test(createdAt) || typeof id !== "string" || !isUuid(id)) throw new Error("bad cursor");
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || date.toISOString() !== createdAt) throw new Error("bad cursor");
    return { createdAt: date, id };
  } catch {
    throw new BadUserInputError("`after` is not a cursor this API issued; pass an endCursor from a previous page.", "after");
  }
}

/** Validates `first`/`after`; `take` is one more than the page so hasNextPage is known. */
export function pageRequest(first: number | null | undefined, after: string | null | undefined): PageRequest {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`\`first\` must be between 0 and ${MAX_PAGE_SIZE} (got ${size}).`, "first");
  }
  return { take: size + 1, after: after ? decodeCursor(after) : undefined };
}

/** Prisma `where` fragment selecting rows after the cursor in (createdAt, id) order. */
export function afterKey(after: SortKey | undefined) {
  if (!after) return {};
  return { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] };
}

export const keysetOrder = [{ createdAt: "asc" as const }, { id: "asc" as const }];

/** An edge whose cursor is encoded only if the query asks for it (most reads do not). */
function edgeOf<T extends SortKey>(node: T): { cursor: string; node: T } {
  return {
    node,
    get cursor() {
      return encodeCursor(node);
    },
  };
}

/** Builds the connection from rows fetched with `take` = page size + 1. */
export function toPage<T extends SortKey>(rows: T[], request: PageRequest): Page<T> {
  const size = request.take - 1;
  const nodes = rows.slice(0, size);
  const edges = nodes.map(edgeOf);
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: request.after !== undefined,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null;
      },
    },
  };
}

/** A page cut from rows already sorted by (createdAt, id), e.g. loaded in one batch. */
export function pageFromSorted<T extends SortKey>(rows: T[], request: PageRequest): Page<T> {
  const after = request.after;
  const start = after
    ? rows.findIndex((row) => row.createdAt > after.createdAt || (row.createdAt.getTime() === after.createdAt.getTime() && row.id > after.id))
    : 0;
  return toPage(start < 0 ? [] : rows.slice(start, start + request.take), request);
}

// What a mutation acted on, for its audit row: ids only. A value is taken when it sits under an
// id-like key (id, ids, backendId, userIds…) and is a UUID, so a name, a region, an access key id
// or a secret in an argument can never end up in the log, whatever the key is called.
import { isUuid } from "../errors/validation.js";

const ID_KEY = /^(id|ids|[A-Za-z]+Id|[A-Za-z]+Ids)$/;
const MAX_DEPTH = 4;
const MAX_LIST = 20;
/** A row names at most this many targets (a list argument cannot make a row arbitrarily big). */
export const MAX_TARGETS = 20;
/** Not targets: the problems a payload reports. */
const SKIPPED_KEYS = new Set(["userErrors"]);

function walk(value: unknown, depth: number, visit: (key: string, value: unknown) => void): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== "object" || value instanceof Date) return;
  const children = Array.isArray(value) ? value.slice(0, MAX_LIST).map((item) => ["", item] as const) : Object.entries(value);
  for (const [key, child] of children) {
    if (SKIPPED_KEYS.has(key)) continue;
    if (key) visit(key, child);
    walk(child, depth + 1, visit);
  }
}

const uuidsOf = (value: unknown): string[] =>
  (Array.isArray(value) ? value.slice(0, MAX_LIST) : [value]).filter((item): item is string => typeof item === "string" && isUuid(item));

/** UUIDs under id-like keys anywhere in `value` (arguments or a payload), in the order met, without repeats. */
export function idsIn(value: unknown): string[] {
  const found = new Set<string>();
  walk(value, 0, (key, child) => {
    if (ID_KEY.test(key)) for (const id of uuidsOf(child)) found.add(id.toLowerCase());
  });
  return [...found].slice(0, MAX_TARGETS);
}

/** The project a mutation names: a `projectId` (top level or in its input), or an object under `project` in its payload. */
export function projectIdIn(value: unknown): string | null {
  let projectId: string | null = null;
  walk(value, 0, (key, child) => {
    if (projectId) return;
    const candidate = key === "projectId" ? child : key === "project" && child && typeof child === "object" ? (child as { id?: unknown }).id : undefined;
    if (typeof candidate === "string" && isUuid(candidate)) projectId = candidate.toLowerCase();
  });
  return projectId;
}

export function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())].slice(0, MAX_TARGETS);
}

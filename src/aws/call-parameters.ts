// The request parameters of an AWS call as the call middleware records them: a plain copy that can
// be checked against IAM independently of the service's own idea of the call (names, ids, tags),
// with every value that may carry a secret or a payload replaced.

/** Parameters whose values are secrets or payloads: a secret's value, user data, object bodies. */
const WITHHELD = new Set(["SecretString", "SecretBinary", "UserData", "Body"]);
export const WITHHELD_VALUE = "[withheld]";

function copy(value: unknown, depth: number): unknown {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  if (depth > 8 || typeof value !== "object") return WITHHELD_VALUE;
  if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1));
  if (ArrayBuffer.isView(value) || Object.getPrototypeOf(value) !== Object.prototype) return WITHHELD_VALUE;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    out[key] = WITHHELD.has(key) ? WITHHELD_VALUE : copy(item, depth + 1);
  }
  return out;
}

/** A plain, JSON-safe copy of an SDK command's input, secrets and payloads withheld. */
export function recordedParameters(input: Record<string, unknown>): Record<string, unknown> {
  return copy(input, 0) as Record<string, unknown>;
}

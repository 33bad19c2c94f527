// Shared pieces of the fuzz tests: the seed and run counts, hostile string generators, and the
// one property every response must have (no 5xx, and either data or coded errors).
import fc from "fast-check";
import { expect } from "vitest";
import type { GraphQLResponse } from "../support/graphql-client.js";

/** FUZZ_SEED reproduces a failing run (fast-check prints the seed and the shrunk counterexample). */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
/** FUZZ_RUNS scales every property (e.g. FUZZ_RUNS=10 for ten times the default runs). */
export const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
export const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)), endOnFailure: true });

/** Strings that have broken services before: NUL, lone surrogates, control and format characters, huge, injection-shaped. */
export const NASTY = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff\ud800",
  "\u202e\u2066",
  "\r\n",
  "\t",
  "💥".repeat(40),
  "é".normalize("NFD"),
  "İı",
  "ß",
  "ａｂｃ",
  "x".repeat(10_000),
  "a".repeat(300_000),
  "'; DROP TABLE \"Project\"; --",
  "\" OR 1=1 --",
  "../../etc/passwd",
  "%00%0d%0a",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "{{7*7}}",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "arn:aws:iam::123456789012:root",
  "s3://bucket",
];

/** Any string: full Unicode (lone surrogates included), grapheme clusters, ASCII, or one of NASTY. */
export const anyString = (maxLength = 80): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary-ascii", maxLength }) },
    { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  );

/** Strings close to a valid slug, so validation passes sometimes and the write path runs too. */
export const slugish = (): fc.Arbitrary<string> =>
  fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/), fc.stringMatching(/^[a-zA-Z0-9_.-]{0,60}$/), anyString(60));

/** Strings shaped like `prefix-<hex>` (ids of AWS things), and garbage. */
export const awsIdLike = (prefix: string): fc.Arbitrary<string> =>
  fc.oneof(fc.stringMatching(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`)), fc.stringMatching(/^[a-z]+-[0-9a-zA-Z]{0,20}$/), anyString(40));

export const regionLike = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom("us-east-1", "eu-west-1", "ap-northeast-1", "us-gov-west-1", "cn-north-1", "local", "US-EAST-1", "us-east-1 ", "eu-west-99"),
    fc.stringMatching(/^[a-z]{2}-[a-z]{2,9}-\d{1,2}$/),
    anyString(30),
  );

export const bucketLike = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
    fc.constantFrom("xn--bucket", "bucket-s3alias", "192.168.0.1", "a..b", "a.-b", "ab", "a".repeat(64), "Bucket", "sthree-x", "x--ol-s3"),
    anyString(80),
  );

/** Integers around the interesting edges, including ones GraphQL's 32-bit Int cannot hold. */
export const anyInt = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: -5, max: 105 }),
    fc.integer(),
    fc.constantFrom(2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e21, -0),
    fc.double({ noNaN: true }),
  );

/** Anything JSON can carry, for variables of the wrong type. */
export const anyJson = (): fc.Arbitrary<unknown> => fc.jsonValue({ maxDepth: 3 });

export interface Expectation {
  /** Top-level field whose payload's userErrors must all have a code. */
  payload?: string;
}

/**
 * The property of every response: not a 5xx, a JSON body, and either data or errors that all
 * carry a code (never INTERNAL_SERVER_ERROR); a mutation payload's userErrors all have a code.
 */
export function expectWellFormed(response: GraphQLResponse, context: unknown, expectation: Expectation = {}): void {
  const where = () => `${JSON.stringify(context)?.slice(0, 400)} → ${response.status} ${response.raw.slice(0, 600)}`;
  expect(response.status, where()).toBeLessThan(500);
  let body: { data?: Record<string, any> | null; errors?: unknown[] };
  try {
    body = JSON.parse(response.raw);
  } catch {
    throw new Error(`not JSON: ${where()}`);
  }
  const errors = (body.errors ?? []) as { extensions?: { code?: unknown } }[];
  for (const error of errors) {
    expect(typeof error.extensions?.code, where()).toBe("string");
    expect(error.extensions?.code, where()).not.toBe("INTERNAL_SERVER_ERROR");
  }
  if (errors.length === 0) {
    expect(body.data, where()).toBeTruthy();
    if (expectation.payload) {
      for (const userError of body.data?.[expectation.payload]?.userErrors ?? []) {
        expect(typeof userError.code, where()).toBe("string");
        expect(userError.code.length, where()).toBeGreaterThan(0);
      }
    }
  }
}

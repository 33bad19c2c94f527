// What an audit row takes from a mutation's arguments and result: UUIDs under id-like names, and
// nothing else, whatever the values are; and how outcomes are classified.
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { outcomeOfError, outcomeOfPayload } from "../../src/audit/outcomes.js";
import { idsIn, MAX_TARGETS, projectIdIn } from "../../src/audit/targets.js";

const A = "0b5b9a9e-8f3e-4c4e-9d6a-6a1c1a3b2c11";
const B = "1c6cab0f-903f-4d5f-8e7b-7b2d2b4c3d22";
const C = "2d7dbc10-a140-4e60-9f8c-8c3e3c5d4e33";

describe("idsIn", () => {
  it("takes UUIDs under id-like names, at any depth, in order, once", () => {
    expect(idsIn({ id: A, input: { userId: B, nested: { backendIds: [C, A] } } })).toEqual([A, B, C]);
    expect(idsIn({ backend: { id: B, projectId: A }, userErrors: [] })).toEqual([B, A]);
  });

  it("leaves out every value that is not a UUID, and every name that is not id-like", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    expect(idsIn({ id: secret, accessKeyId: "AKIAIOSFODNN7EXAMPLE", input: { name: A, value: A, clientToken: A, credentials: { secretAccessKey: secret } } })).toEqual([]);
    expect(idsIn({ userErrors: [{ field: ["id"], id: A }] })).toEqual([]);
  });

  it("is bounded: long lists and deep nesting stop", () => {
    const many = Array.from({ length: 100 }, (_, i) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`);
    expect(idsIn({ ids: many })).toHaveLength(MAX_TARGETS);
    expect(idsIn({ a: { b: { c: { d: { e: { id: A } } } } } })).toEqual([]);
  });
});

describe("projectIdIn", () => {
  it("finds a projectId argument, or an object under `project` in a payload", () => {
    expect(projectIdIn({ projectId: A, input: { userId: B } })).toBe(A);
    expect(projectIdIn({ project: { id: B, name: "x" }, userErrors: [] })).toBe(B);
    expect(projectIdIn({ backend: { id: C, projectId: A } })).toBe(A);
    expect(projectIdIn({ projectId: "not-an-id" })).toBeNull();
  });
});

describe("outcomes", () => {
  it("OK, USER_ERROR with the codes, DENIED and FAILED", () => {
    expect(outcomeOfPayload({ project: {}, userErrors: [] })).toEqual({ outcome: "OK", codes: [] });
    expect(outcomeOfPayload({ userErrors: [{ code: "NOT_FOUND" }, { code: "INVALID_INPUT" }, { code: "NOT_FOUND" }] })).toEqual({ outcome: "USER_ERROR", codes: ["NOT_FOUND", "INVALID_INPUT"] });
    const coded = (code: string) => new GraphQLError("x", { extensions: { code } });
    expect(outcomeOfError(coded("FORBIDDEN"))).toEqual({ outcome: "DENIED", codes: ["FORBIDDEN"] });
    expect(outcomeOfError(coded("RATE_LIMITED"))).toEqual({ outcome: "DENIED", codes: ["RATE_LIMITED"] });
    expect(outcomeOfError(coded("BAD_USER_INPUT"))).toEqual({ outcome: "USER_ERROR", codes: ["BAD_USER_INPUT"] });
    expect(outcomeOfError(new Error("boom"))).toEqual({ outcome: "FAILED", codes: ["INTERNAL_SERVER_ERROR"] });
    expect(outcomeOfError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toEqual({ outcome: "FAILED", codes: ["SERVICE_UNAVAILABLE"] });
    // A code is copied only if it looks like one of ours: never free text.
    expect(outcomeOfError(coded("some free text with a secret"))).toEqual({ outcome: "FAILED", codes: ["INTERNAL_SERVER_ERROR"] });
  });
});

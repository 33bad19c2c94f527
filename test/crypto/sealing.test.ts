import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEncryptionKeys } from "../../src/crypto/keyring.js";
import {
  envelopeKeyId,
  needsReseal,
  open,
  openJson,
  reseal,
  seal,
  SealedDataError,
  sealJson,
  type SealingContext,
} from "../../src/crypto/sealing.js";

const entry = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;
const OLD = entry("k2024");
const NEW = entry("k2025");
const keyring = parseEncryptionKeys(OLD);
const ctx: SealingContext = { purpose: "aws-credentials", id: "backend-1" };
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** Re-encodes one base64url part of the envelope after letting `edit` change its bytes. */
function tamperPart(envelope: string, index: 2 | 3, edit: (bytes: Buffer) => void): string {
  const parts = envelope.split(".");
  const bytes = Buffer.from(parts[index]!, "base64url");
  edit(bytes);
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

function expectSealedError(fn: () => unknown, code: SealedDataError["code"], message: RegExp): SealedDataError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SealedDataError);
  const error = caught as SealedDataError;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(error.message).not.toContain(SECRET);
  return error;
}

describe("seal / open", () => {
  it("round-trips strings, buffers and JSON", () => {
    const envelope = seal(keyring, SECRET, ctx);
    expect(open(keyring, envelope, ctx, "utf8")).toBe(SECRET);
    expect(open(keyring, envelope, ctx)).toEqual(Buffer.from(SECRET));

    const bytes = randomBytes(100);
    expect(open(keyring, seal(keyring, bytes, ctx), ctx)).toEqual(bytes);

    expect(open(keyring, seal(keyring, "", ctx), ctx, "utf8")).toBe("");

    const creds = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET };
    expect(openJson(keyring, sealJson(keyring, creds, ctx), ctx)).toEqual(creds);
  });

  it("produces a compact v1.<keyId>.<nonce>.<ct> envelope that does not contain the plaintext", () => {
    const envelope = seal(keyring, SECRET, ctx);
    expect(envelope).toMatch(/^v1\.k2024\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain(SECRET);
    expect(envelope).not.toContain(Buffer.from(SECRET).toString("base64url"));
    expect(envelope).not.toContain(Buffer.from(SECRET).toString("base64"));
    expect(envelopeKeyId(envelope)).toBe("k2024");
  });

  it("uses a fresh nonce per seal", () => {
    const a = seal(keyring, SECRET, ctx);
    const b = seal(keyring, SECRET, ctx);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
  });

  it("refuses tampered ciphertext, nonce and tag", () => {
    const envelope = seal(keyring, SECRET, ctx);
    const tampered = [
      tamperPart(envelope, 3, (b) => void (b[0]! ^= 0x01)), // first ciphertext byte
      tamperPart(envelope, 3, (b) => void (b[b.length - 1]! ^= 0x80)), // last tag byte
      tamperPart(envelope, 2, (b) => void (b[5]! ^= 0x01)), // nonce
    ];
    for (const bad of tampered) {
      expect(bad).not.toBe(envelope);
      expectSealedError(() => open(keyring, bad, ctx), "NOT_OPENED", /could not be opened/);
    }
  });

  it("refuses a ciphertext moved to another backend id", () => {
    const envelope = seal(keyring, SECRET, ctx);
    expectSealedError(() => open(keyring, envelope, { ...ctx, id: "backend-2" }), "NOT_OPENED", /could not be opened/);
  });

  it("refuses a different purpose", () => {
    const envelope = seal(keyring, SECRET, ctx);
    expectSealedError(() => open(keyring, envelope, { ...ctx, purpose: "ssh-key" }), "NOT_OPENED", /could not be opened/);
  });

  it("encodes the context unambiguously (no shifting characters between purpose and id)", () => {
    const envelope = seal(keyring, SECRET, { purpose: "aws", id: "x:1" });
    expectSealedError(() => open(keyring, envelope, { purpose: "aws:x", id: "1" }), "NOT_OPENED", /could not be opened/);
  });

  it("refuses an envelope whose key id was swapped to another configured key", () => {
    const both = parseEncryptionKeys(`${NEW},${OLD}`);
    const envelope = seal(both, SECRET, ctx);
    const swapped = envelope.replace(/^v1\.k2025\./, "v1.k2024.");
    expectSealedError(() => open(both, swapped, ctx), "NOT_OPENED", /could not be opened/);
  });

  it("rejects malformed envelopes with a safe message", () => {
    const envelope = seal(keyring, SECRET, ctx);
    const parts = envelope.split(".");
    const cases = [
      "",
      "not-an-envelope",
      envelope.replace(/^v1\./, "v2."),
      `${envelope}.extra`,
      [parts[0], "bad id!", parts[2], parts[3]].join("."),
      [parts[0], parts[1], parts[2]!.slice(0, 8), parts[3]].join("."), // short nonce
      [parts[0], parts[1], parts[2], "AAAA"].join("."), // shorter than a tag
      [parts[0], parts[1], parts[2], `${parts[3]}*`].join("."), // not base64url
    ];
    for (const bad of cases) expectSealedError(() => open(keyring, bad, ctx), "MALFORMED", /malformed/);
  });

  it("never puts the plaintext into a JSON decoding error", () => {
    const envelope = seal(keyring, `not json ${SECRET}`, ctx);
    expectSealedError(() => openJson(keyring, envelope, ctx), "NOT_OPENED", /not valid JSON/);
  });

  it("requires a non-empty context", () => {
    expect(() => seal(keyring, SECRET, { purpose: "aws-credentials", id: "" })).toThrow(TypeError);
    expect(() => seal(keyring, SECRET, { purpose: "", id: "b" })).toThrow(TypeError);
  });
});

describe("rotation", () => {
  const oldOnly = parseEncryptionKeys(OLD);
  const rotated = parseEncryptionKeys(`${NEW},${OLD}`);
  const newOnly = parseEncryptionKeys(NEW);

  it("opens old envelopes with [new, old], seals new ones with the new key, and reseals", () => {
    const oldEnvelope = seal(oldOnly, SECRET, ctx);
    expect(open(rotated, oldEnvelope, ctx, "utf8")).toBe(SECRET);

    const fresh = seal(rotated, SECRET, ctx);
    expect(envelopeKeyId(fresh)).toBe("k2025");
    expect(needsReseal(rotated, fresh)).toBe(false);

    expect(needsReseal(rotated, oldEnvelope)).toBe(true);
    const moved = reseal(rotated, oldEnvelope, ctx);
    expect(envelopeKeyId(moved)).toBe("k2025");
    expect(needsReseal(rotated, moved)).toBe(false);
    expect(open(newOnly, moved, ctx, "utf8")).toBe(SECRET);

    // Already current: returned unchanged.
    expect(reseal(rotated, moved, ctx)).toBe(moved);
  });

  it("fails with a clear unknown-key-id error once the old key is removed", () => {
    const oldEnvelope = seal(oldOnly, SECRET, ctx);
    const error = expectSealedError(() => open(newOnly, oldEnvelope, ctx), "UNKNOWN_KEY_ID", /unknown key id "k2024"/);
    expect(error.keyId).toBe("k2024");
    expect(() => reseal(newOnly, oldEnvelope, ctx)).toThrow(/unknown key id/);
  });

  it("reseal refuses an envelope from another context instead of re-encrypting it", () => {
    const oldEnvelope = seal(oldOnly, SECRET, ctx);
    expectSealedError(() => reseal(rotated, oldEnvelope, { ...ctx, id: "backend-2" }), "NOT_OPENED", /could not be opened/);
  });
});

import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEY_FILE_NAME, KeyringError, loadKeyring, parseEncryptionKeys } from "../../src/crypto/keyring.js";
import { open, seal } from "../../src/crypto/sealing.js";

const b64 = (bytes: number) => randomBytes(bytes).toString("base64");
const ctx = { purpose: "aws-credentials", id: "backend-1" };

/** Parses and returns the KeyringError, asserting it names the variable and leaks nothing. */
function parseError(value: string, secrets: string[]): KeyringError {
  let caught: unknown;
  try {
    parseEncryptionKeys(value);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KeyringError);
  const message = (caught as KeyringError).message;
  expect(message).toMatch(/^ENCRYPTION_KEYS: /);
  for (const secret of secrets) expect(message).not.toContain(secret);
  return caught as KeyringError;
}

describe("parseEncryptionKeys", () => {
  it("uses the first key to seal and all keys to open", () => {
    const a = b64(32);
    const b = b64(32);
    const keyring = parseEncryptionKeys(` new:${a} , old:${b} `);
    expect(keyring.current.id).toBe("new");
    expect(keyring.ids).toEqual(["new", "old"]);
    expect(keyring.get("old")?.material).toEqual(Buffer.from(b, "base64"));
    expect(keyring.get("missing")).toBeUndefined();
  });

  it("never shows key material when a keyring is logged or serialised", () => {
    const material = b64(32);
    const keyring = parseEncryptionKeys(`k1:${material}`);
    const hex = Buffer.from(material, "base64").toString("hex");
    for (const shown of [inspect(keyring), inspect(keyring.current), JSON.stringify(keyring), JSON.stringify({ k: keyring.current })]) {
      expect(shown).toContain("k1");
      expect(shown).not.toContain(material);
      expect(shown).not.toContain(hex);
    }
  });

  it("rejects bad base64", () => {
    const bad = "this*is*not*base64!!";
    expect(parseError(`k1:${bad}`, [bad]).message).toMatch(/entry 1 .*not valid padded base64/);
    // Unpadded / truncated base64 is a typo, not a key.
    const unpadded = b64(32).replace(/=+$/, "");
    expect(parseError(`k1:${unpadded}`, [unpadded]).message).toMatch(/not valid padded base64/);
  });

  it("rejects keys that are not 32 bytes", () => {
    const short = b64(16);
    const long = b64(64);
    expect(parseError(`k1:${short}`, [short]).message).toMatch(/decodes to 16 bytes.*exactly 32/);
    expect(parseError(`k1:${b64(32)},k2:${long}`, [long]).message).toMatch(/entry 2 .*decodes to 64 bytes/);
  });

  it("rejects duplicate key ids", () => {
    const a = b64(32);
    const b = b64(32);
    expect(parseError(`k1:${a},k1:${b}`, [a, b]).message).toMatch(/entries 1 and 2 both use key id "k1"/);
  });

  it("rejects empty values and empty entries", () => {
    expect(parseError("", []).message).toMatch(/is empty/);
    expect(parseError("  ", []).message).toMatch(/is empty/);
    const a = b64(32);
    expect(parseError(`k1:${a},`, [a]).message).toMatch(/entry 2 is empty/);
    expect(parseError(`k1:`, []).message).toMatch(/no key after/);
  });

  it("rejects a key without id, and bad ids, without echoing the entry", () => {
    const a = b64(32);
    expect(parseError(a, [a]).message).toMatch(/no "<keyId>:" prefix/);
    expect(parseError(`bad.id:${a}`, [a, "bad.id"]).message).toMatch(/invalid key id/);
    expect(parseError(`:${a}`, [a]).message).toMatch(/invalid key id/);
  });
});

describe("loadKeyring", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "keyring-test-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("prefers ENCRYPTION_KEYS and writes no key file", async () => {
    const loaded = await loadKeyring({ encryptionKeys: `prod:${b64(32)}`, dataDir });
    expect(loaded).toMatchObject({ source: "env", generated: false });
    expect(loaded.warning).toBeUndefined();
    expect(loaded.keyring.current.id).toBe("prod");
    expect(await readdir(dataDir)).toEqual([]);
  });

  it("validates ENCRYPTION_KEYS strictly even when a key file could be used", async () => {
    await expect(loadKeyring({ encryptionKeys: "", dataDir })).rejects.toThrow(/^ENCRYPTION_KEYS: is empty/);
  });

  it("generates a 0600 key file with a warning, then reuses it", async () => {
    const nested = path.join(dataDir, "nested", "data");
    const first = await loadKeyring({ dataDir: nested });
    expect(first).toMatchObject({ source: "file", generated: true, keyFile: path.join(nested, KEY_FILE_NAME) });
    expect(first.warning).toMatch(/production must set ENCRYPTION_KEYS/i);
    expect(first.keyring.current.id).toMatch(/^local-[0-9a-f]{8}$/);

    const file = path.join(nested, KEY_FILE_NAME);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // The file uses the ENCRYPTION_KEYS format, so an operator can carry the key over.
    const contents = (await readFile(file, "utf8")).trim();
    expect(parseEncryptionKeys(contents).current.id).toBe(first.keyring.current.id);
    expect(await readdir(nested)).toEqual([KEY_FILE_NAME]); // no temp files left behind

    const envelope = seal(first.keyring, "secret", ctx);
    const second = await loadKeyring({ dataDir: nested });
    expect(second).toMatchObject({ source: "file", generated: false });
    expect(second.warning).toMatch(/production must set ENCRYPTION_KEYS/i);
    expect(second.keyring.current.id).toBe(first.keyring.current.id);
    expect(open(second.keyring, envelope, ctx, "utf8")).toBe("secret");
  });

  it("agrees on one key when several loads race to create the file", async () => {
    const loads = await Promise.all(Array.from({ length: 8 }, () => loadKeyring({ dataDir })));
    expect(new Set(loads.map((l) => l.keyring.current.id)).size).toBe(1);
    expect(loads.filter((l) => l.generated)).toHaveLength(1);
    expect(await readdir(dataDir)).toEqual([KEY_FILE_NAME]);
  });

  it("warns when the key file is readable by others", async () => {
    await writeFile(path.join(dataDir, KEY_FILE_NAME), `mine:${b64(32)}\n`, { mode: 0o644 });
    const loaded = await loadKeyring({ dataDir });
    expect(loaded.keyring.current.id).toBe("mine");
    expect(loaded.warning).toMatch(/readable by other users \(mode 644\)/);
  });

  it("names the key file, not the contents, when it is corrupt", async () => {
    const material = b64(16);
    const file = path.join(dataDir, KEY_FILE_NAME);
    await writeFile(file, `mine:${material}\n`, { mode: 0o600 });
    const error = await loadKeyring({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as Error).message).toContain(`key file ${file}`);
    expect((error as Error).message).not.toContain(material);
  });
});

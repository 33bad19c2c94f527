// Encryption keys for sealing secrets at rest (see sealing.ts).
//
// Keys come from ENCRYPTION_KEYS = "<keyId>:<base64 of 32 bytes>,...". The FIRST key seals new
// values; every listed key can open old ones, so rotation is "put the new key first, keep the old
// ones until everything is resealed". Each envelope names its key id, so opening never guesses.
//
// Without ENCRYPTION_KEYS (local development) a key is generated once into
// <dataDir>/encryption-key and reused, so sealed rows survive restarts. The caller must log the
// returned warning: production has to set ENCRYPTION_KEYS.
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { chmod, link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import path from "node:path";

/** AES-256 needs exactly 32 bytes of key material. */
export const KEY_LENGTH = 32;

/** Name of the generated key file inside the data dir. */
export const KEY_FILE_NAME = "encryption-key";

// Key ids appear inside envelopes ("v1.<keyId>.<nonce>.<ct>") and in ENCRYPTION_KEYS, so they
// must not contain ".", ":" or ",". Keeping them short and plain also makes them safe to log.
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidKeyId(id: string): boolean {
  return KEY_ID_PATTERN.test(id);
}

/** A configuration problem with the keys. Messages never contain key material. */
export class KeyringError extends Error {
  override name = "KeyringError";
}

/**
 * One key. The material sits in a private field behind a getter so that logging or
 * JSON-serialising a key (or the keyring) shows only its id, never the bytes.
 */
export class EncryptionKey {
  readonly id: string;
  readonly #material: Buffer;

  constructor(id: string, material: Buffer) {
    if (!KEY_ID_PATTERN.test(id)) throw new KeyringError("key id must be 1-64 characters of A-Z a-z 0-9 _ -");
    if (material.length !== KEY_LENGTH) throw new KeyringError(`key must be exactly ${KEY_LENGTH} bytes`);
    this.id = id;
    this.#material = Buffer.from(material); // own copy: the caller may zero theirs
  }

  get material(): Buffer {
    return this.#material;
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `EncryptionKey(${this.id})`;
  }
}

/** The active key (`current`, used to seal) plus every key that may open old values. */
export class Keyring {
  readonly current: EncryptionKey;
  readonly #byId: Map<string, EncryptionKey>;

  /** `keys[0]` becomes the current key. Ids must be unique. */
  constructor(keys: readonly EncryptionKey[]) {
    const first = keys[0];
    if (!first) throw new KeyringError("a keyring needs at least one key");
    this.#byId = new Map();
    for (const key of keys) {
      if (this.#byId.has(key.id)) throw new KeyringError(`duplicate key id "${key.id}"`);
      this.#byId.set(key.id, key);
    }
    this.current = first;
  }

  get(keyId: string): EncryptionKey | undefined {
    return this.#byId.get(keyId);
  }

  /** All key ids, current first. */
  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  toJSON(): { current: string; ids: string[] } {
    return { current: this.current.id, ids: this.ids };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Keyring(current=${this.current.id}, ids=[${this.ids.join(", ")}])`;
  }
}

/**
 * Parses "<keyId>:<base64>,..." strictly. Errors start with `source` (e.g. "ENCRYPTION_KEYS") and
 * point at the entry by position; they never echo the entry, because a malformed entry may be
 * nothing but key material (e.g. a key pasted without its id).
 */
export function parseEncryptionKeys(value: string, source = "ENCRYPTION_KEYS"): Keyring {
  // Annotated so TypeScript treats each fail() call as ending control flow.
  const fail: (problem: string) => never = (problem) => {
    throw new KeyringError(`${source}: ${problem}. Expected a comma-separated list of <keyId>:<base64 of ${KEY_LENGTH} bytes>.`);
  };
  if (value.trim() === "") fail("is empty");

  const entries = value.split(",").map((entry) => entry.trim());
  const keys: EncryptionKey[] = [];
  const positionById = new Map<string, number>();
  entries.forEach((entry, index) => {
    const at = `entry ${index + 1}`;
    if (entry === "") fail(`${at} is empty (stray comma?)`);
    const colon = entry.indexOf(":");
    if (colon < 0) fail(`${at} has no "<keyId>:" prefix`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) fail(`${at} has an invalid key id (use 1-64 characters of A-Z a-z 0-9 _ -)`);
    const earlier = positionById.get(id);
    if (earlier !== undefined) fail(`entries ${earlier} and ${index + 1} both use key id "${id}"`);
    positionById.set(id, index + 1);
    if (encoded === "") fail(`${at} (key id "${id}") has no key after the ":"`);
    // Buffer.from(.., "base64") silently skips invalid characters; demanding that the text is the
    // canonical encoding of what it decodes to rejects typos and truncation instead.
    const material = Buffer.from(encoded, "base64");
    if (material.toString("base64") !== encoded) fail(`${at} (key id "${id}") is not valid padded base64`);
    if (material.length !== KEY_LENGTH) {
      fail(`${at} (key id "${id}") decodes to ${material.length} bytes, but AES-256 needs exactly ${KEY_LENGTH}`);
    }
    keys.push(new EncryptionKey(id, material));
    material.fill(0);
  });
  return new Keyring(keys);
}

/** Serialises one key in the ENCRYPTION_KEYS entry format, e.g. for the generated key file. */
export function formatKeyEntry(id: string, material: Buffer): string {
  return `${id}:${material.toString("base64")}`;
}

export interface LoadKeyringOptions {
  /** Raw ENCRYPTION_KEYS value; undefined means "not configured" (use the key file). */
  encryptionKeys?: string | undefined;
  /** Where the fallback key file lives. */
  dataDir: string;
}

export interface LoadedKeyring {
  keyring: Keyring;
  source: "env" | "file";
  /** True when this call created the key file (first start without ENCRYPTION_KEYS). */
  generated: boolean;
  /** Set whenever keys did not come from ENCRYPTION_KEYS; the caller should log it at warn. */
  warning?: string;
  /** Path of the key file when `source` is "file". */
  keyFile?: string;
}

/** ENCRYPTION_KEYS if given (strictly validated), else the data dir's key file (created if absent). */
export async function loadKeyring(options: LoadKeyringOptions): Promise<LoadedKeyring> {
  if (options.encryptionKeys !== undefined) {
    return { keyring: parseEncryptionKeys(options.encryptionKeys), source: "env", generated: false };
  }

  const keyFile = path.join(path.resolve(options.dataDir), KEY_FILE_NAME);
  const generated = await createKeyFileIfAbsent(keyFile);
  const keyring = parseEncryptionKeys((await readFile(keyFile, "utf8")).trim(), `key file ${keyFile}`);

  let warning =
    `ENCRYPTION_KEYS is not set; secrets are sealed with the local key in ${keyFile}. ` +
    "Production must set ENCRYPTION_KEYS (to keep reading values sealed so far, list this file's entry in it).";
  const mode = (await stat(keyFile)).mode & 0o777;
  if ((mode & 0o077) !== 0) warning += ` The key file is readable by other users (mode ${mode.toString(8)}); chmod 600 it.`;
  return { keyring, source: "file", generated, warning, keyFile };
}

/**
 * Writes a fresh key to `keyFile` unless it exists. Returns true if this call created it.
 *
 * Atomic: the key is written and fsynced under a temporary name, then hard-linked into place.
 * link() fails with EEXIST instead of replacing, so two processes starting together agree on one
 * key (a rename would let the loser overwrite a key that may already have sealed data), and a
 * crash never leaves a half-written key file behind.
 */
async function createKeyFileIfAbsent(keyFile: string): Promise<boolean> {
  try {
    await stat(keyFile);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }

  await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const id = `local-${randomBytes(4).toString("hex")}`;
  const material = randomBytes(KEY_LENGTH);
  const temp = `${keyFile}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.writeFile(`${formatKeyEntry(id, material)}\n`, "utf8");
    await handle.sync();
  } finally {
    material.fill(0);
    await handle.close();
  }
  try {
    await chmod(temp, 0o600); // open()'s mode is filtered by umask; make it exactly 0600
    await link(temp, keyFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false; // another process won
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

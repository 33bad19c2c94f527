// Sealing secrets at rest (e.g. a backend's AWS credentials) with AES-256-GCM.
//
// Envelope: "v1.<keyId>.<b64url nonce>.<b64url ciphertext||tag>".
// - The key id says which key opens it, so rotation needs no trial decryption, and
//   needsReseal() can tell which rows still use a retired key.
// - Associated data binds the ciphertext to its context { purpose, id } (e.g. "aws-credentials"
//   + backend id): copying one backend's sealed credentials onto another row fails to open.
// - Every error is a SealedDataError with a fixed, safe message: never plaintext, never key bytes.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { isValidKeyId, type EncryptionKey, type Keyring } from "./keyring.js";

const VERSION = "v1";
const ALGORITHM = "aes-256-gcm";
/** 96-bit random nonce: the GCM standard size. Random nonces are safe far beyond our volume. */
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** What a sealed value belongs to. Both fields are authenticated, not encrypted. */
export interface SealingContext {
  /** What kind of secret, e.g. "aws-credentials". */
  purpose: string;
  /** Which record it belongs to, e.g. the backend id. */
  id: string;
}

export type SealedDataErrorCode = "MALFORMED" | "UNKNOWN_KEY_ID" | "NOT_OPENED";

/** A sealed value could not be read. The message is safe to log. */
export class SealedDataError extends Error {
  override name = "SealedDataError";
  constructor(
    readonly code: SealedDataErrorCode,
    message: string,
    /** Key id from the envelope, when it was readable (ids are not secret). */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

interface ParsedEnvelope {
  keyId: string;
  nonce: Buffer;
  sealed: Buffer; // ciphertext || tag
}

/** Encrypts `plaintext` under the keyring's current key, bound to `context`. */
export function seal(keyring: Keyring, plaintext: string | Buffer, context: SealingContext): string {
  const key = keyring.current;
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv(ALGORITHM, key.material, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(associatedData(key.id, context));
  const data = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
  const sealed = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  if (typeof plaintext === "string") data.fill(0); // our own copy; the caller's Buffer is theirs
  return [VERSION, key.id, nonce.toString("base64url"), sealed.toString("base64url")].join(".");
}

/** Decrypts an envelope made by seal() for the same context. Throws SealedDataError otherwise. */
export function open(keyring: Keyring, envelope: string, context: SealingContext): Buffer;
export function open(keyring: Keyring, envelope: string, context: SealingContext, encoding: "utf8"): string;
export function open(keyring: Keyring, envelope: string, context: SealingContext, encoding?: "utf8"): Buffer | string {
  const parsed = parseEnvelope(envelope);
  const key = keyFor(keyring, parsed.keyId);
  const plaintext = decrypt(key, parsed, context);
  if (encoding === undefined) return plaintext;
  const text = plaintext.toString(encoding);
  plaintext.fill(0);
  return text;
}

/** seal() of JSON.stringify(value). */
export function sealJson(keyring: Keyring, value: unknown, context: SealingContext): string {
  return seal(keyring, JSON.stringify(value), context);
}

/** open() + JSON.parse. The result is not validated: check its shape at the call site. */
export function openJson<T = unknown>(keyring: Keyring, envelope: string, context: SealingContext): T {
  const text = open(keyring, envelope, context, "utf8");
  try {
    return JSON.parse(text) as T;
  } catch {
    // JSON.parse's own message quotes the input, i.e. the plaintext secret: never rethrow it.
    throw new SealedDataError("NOT_OPENED", "sealed data was opened but is not valid JSON");
  }
}

/** True when the envelope was sealed with a key other than the current one. */
export function needsReseal(keyring: Keyring, envelope: string): boolean {
  return parseEnvelope(envelope).keyId !== keyring.current.id;
}

/**
 * Re-encrypts under the current key (same context), like Vault's rewrap; returns the envelope
 * unchanged if it already uses the current key. It is still opened first, so a tampered or
 * misplaced envelope is refused rather than silently "upgraded".
 */
export function reseal(keyring: Keyring, envelope: string, context: SealingContext): string {
  const parsed = parseEnvelope(envelope);
  const plaintext = decrypt(keyFor(keyring, parsed.keyId), parsed, context);
  if (parsed.keyId === keyring.current.id) {
    plaintext.fill(0);
    return envelope;
  }
  try {
    return seal(keyring, plaintext, context);
  } finally {
    plaintext.fill(0);
  }
}

/** Key id of an envelope without opening it (for metrics such as "rows still on key X"). */
export function envelopeKeyId(envelope: string): string {
  return parseEnvelope(envelope).keyId;
}

function decrypt(key: EncryptionKey, parsed: ParsedEnvelope, context: SealingContext): Buffer {
  const ciphertext = parsed.sealed.subarray(0, parsed.sealed.length - TAG_LENGTH);
  const tag = parsed.sealed.subarray(parsed.sealed.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv(ALGORITHM, key.material, parsed.nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(associatedData(key.id, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // GCM cannot tell "tampered" from "wrong context" (nor should it say which): one message.
    throw new SealedDataError(
      "NOT_OPENED",
      "sealed data could not be opened: it was modified or belongs to a different record",
      key.id,
    );
  }
}

function keyFor(keyring: Keyring, keyId: string): EncryptionKey {
  const key = keyring.get(keyId);
  if (!key) {
    throw new SealedDataError(
      "UNKNOWN_KEY_ID",
      `sealed data uses unknown key id "${keyId}": no configured key (ENCRYPTION_KEYS) has that id; was it removed before every value was resealed?`,
      keyId,
    );
  }
  return key;
}

// AAD is a JSON array of fixed shape: JSON string escaping makes the encoding unambiguous
// ("a.b"+"c" and "a"+"b.c" differ), and the version and key id are bound in alongside the context
// so no header field can be edited without failing authentication.
function associatedData(keyId: string, context: SealingContext): Buffer {
  if (typeof context.purpose !== "string" || context.purpose === "" || typeof context.id !== "string" || context.id === "") {
    // A programming error, not bad data; an empty id would make every record share a context.
    throw new TypeError("sealing context needs a non-empty purpose and id");
  }
  return Buffer.from(JSON.stringify([VERSION, keyId, context.purpose, context.id]), "utf8");
}

// Parses only the structure; authenticity is checked by decrypt(). Messages never include the
// envelope itself (it is harmless, but there is no reason to spray it into logs).
function parseEnvelope(envelope: string): ParsedEnvelope {
  const malformed = (problem: string): never => {
    throw new SealedDataError("MALFORMED", `sealed data is malformed: ${problem}`);
  };
  if (typeof envelope !== "string") return malformed("not a string");
  const parts = envelope.split(".");
  if (parts.length !== 4) return malformed("expected v1.<keyId>.<nonce>.<ciphertext>");
  const [version, keyId, nonceText, sealedText] = parts as [string, string, string, string];
  if (version !== VERSION) return malformed("unsupported version");
  if (!isValidKeyId(keyId)) return malformed("invalid key id");
  const nonce = decodeBase64Url(nonceText);
  if (!nonce || nonce.length !== NONCE_LENGTH) return malformed("invalid nonce");
  const sealed = decodeBase64Url(sealedText);
  if (!sealed || sealed.length < TAG_LENGTH) return malformed("invalid ciphertext");
  return { keyId, nonce, sealed };
}

/** Strict base64url: Node's decoder skips bad characters, so require the canonical encoding. */
function decodeBase64Url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

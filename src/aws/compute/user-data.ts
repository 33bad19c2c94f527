// User data for launched instances: a cloud-config that installs the caller's SSH public key for
// the image's default user (ubuntu on Ubuntu). The key is checked strictly (type, base64 blob whose
// embedded type matches, one line), so nothing else can be smuggled into the cloud-config.

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

const KEY_LINE = /^(\S+) ([A-Za-z0-9+/]+={0,3})(?: ([^\r\n]{0,200}))?$/;

/** The key as one normalised line ("type blob [comment]"), or a reason why it is not an OpenSSH public key. */
export function parseSshPublicKey(input: string): { ok: true; value: string } | { ok: false; message: string } {
  const line = input.trim();
  if (/[\r\n]/.test(line)) return { ok: false, message: "The SSH public key must be a single line." };
  const match = KEY_LINE.exec(line);
  if (!match) return { ok: false, message: 'The SSH public key must look like "ssh-ed25519 AAAA… [comment]".' };
  const [, type, blob, comment] = match;
  if (!KEY_TYPES.has(type)) return { ok: false, message: `SSH key type "${type.slice(0, 40)}" is not supported.` };
  const bytes = Buffer.from(blob, "base64");
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > bytes.length || bytes.subarray(4, 4 + length).toString("latin1") !== type) {
    return { ok: false, message: "The SSH public key's data does not match its type." };
  }
  return { ok: true, value: comment?.trim() ? `${type} ${blob} ${comment.trim()}` : `${type} ${blob}` };
}

/** The cloud-config text (not yet base64) that installs `sshPublicKey`. */
export function cloudConfig(sshPublicKey: string): { ok: true; value: string } | { ok: false; message: string } {
  const key = parseSshPublicKey(sshPublicKey);
  if (!key.ok) return key;
  // JSON strings are valid YAML double-quoted scalars, so the comment cannot break the document.
  return { ok: true, value: `#cloud-config\nssh_authorized_keys:\n  - ${JSON.stringify(key.value)}\n` };
}

/** Base64 user data for RunInstances, or why the key was refused. */
export function buildUserData(sshPublicKey: string): { ok: true; value: string } | { ok: false; message: string } {
  const config = cloudConfig(sshPublicKey);
  if (!config.ok) return config;
  return { ok: true, value: Buffer.from(config.value, "utf8").toString("base64") };
}

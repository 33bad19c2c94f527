// A backend's AWS credentials at rest: sealed to the backend id, so a copied envelope cannot be
// opened for another backend, and readable only inside the service.
import type { AwsCredentialSource } from "../aws/clients.js";
import type { Keyring } from "../crypto/keyring.js";
import { needsReseal, openJson, reseal, SealedDataError, sealJson, type SealingContext } from "../crypto/sealing.js";

interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

const context = (backendId: string): SealingContext => ({ purpose: "aws-credentials", id: backendId });

export class BackendCredentials {
  constructor(private readonly keyring: Keyring) {}

  seal(backendId: string, key: AccessKey): string {
    return sealJson(this.keyring, { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, context(backendId));
  }

  /** The credentials a backend row stands for; throws SealedDataError when they cannot be opened. */
  source(backend: { id: string; awsCredentialsMode: string; sealedCredentials: string | null }): AwsCredentialSource {
    if (backend.awsCredentialsMode === "DEFAULT" || !backend.sealedCredentials) return { mode: "DEFAULT" };
    const key = openJson<AccessKey>(this.keyring, backend.sealedCredentials, context(backend.id));
    return { mode: "ACCESS_KEY", accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }

  /**
   * Like source(), but an envelope that cannot be opened (tampered, copied from another backend,
   * sealed with a key no longer configured) is returned as a result instead of thrown. Its
   * message is safe to show: it never contains the envelope, plaintext or key material.
   */
  tryOpen(backend: { id: string; awsCredentialsMode: string; sealedCredentials: string | null }):
    | { ok: true; source: AwsCredentialSource }
    | { ok: false; error: SealedDataError } {
    try {
      return { ok: true, source: this.source(backend) };
    } catch (error) {
      if (error instanceof SealedDataError) return { ok: false, error };
      throw error;
    }
  }

  needsReseal(envelope: string): boolean {
    return needsReseal(this.keyring, envelope);
  }

  reseal(backendId: string, envelope: string): string {
    return reseal(this.keyring, envelope, context(backendId));
  }
}

/** "AKIAIOSFODNN7EXAMPLE" → "AKIA…MPLE": enough to recognise a key, useless to an attacker. */
export function accessKeyIdHint(accessKeyId: string): string {
  return accessKeyId.length <= 8 ? "…" : `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}

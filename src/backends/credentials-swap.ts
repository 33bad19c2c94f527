// updateAwsBackend replaces the stored credentials secret in three steps, so that the row never
// points at a secret that is gone: the new secret is written, the row is updated, and only then is
// the old secret deleted. When the row update fails (a name taken, a concurrent change), the new
// secret is taken back: deleted when it has a name of its own, or given back the old sealed value
// when it replaced the old one in place (same bucket and region, so the same name).
import type { AwsClientFactory, AwsCredentialSource } from "../aws/clients.js";
import { deleteSecret, putSecret } from "../aws/secrets-store.js";
import type { Backend } from "../generated/prisma/client.js";
import type { BackendCredentials } from "./backend-credentials.js";

export interface WrittenSecret {
  /** Null for DEFAULT credentials: nothing was written. */
  secretName: string | null;
  sealed: string | null;
  region: string;
  bucket: string;
  /** The credentials that wrote it. */
  source: AwsCredentialSource;
}

const replacesInPlace = (old: Backend, written: WrittenSecret) =>
  old.credentialsSecretName !== null && old.credentialsSecretName === written.secretName && old.awsRegion === written.region;

/** The row was not updated: the secret it still points at is made to hold what the row holds again. */
export async function takeBack(aws: AwsClientFactory, old: Backend, written: WrittenSecret): Promise<void> {
  if (!written.secretName) return;
  const session = { factory: aws, credentials: written.source };
  if (replacesInPlace(old, written) && old.sealedCredentials) {
    await putSecret(session, written.region, { name: written.secretName, value: old.sealedCredentials, bucket: old.awsBucket });
  } else {
    await deleteSecret(session, written.region, written.secretName);
  }
}

/** The row now points at the new secret: the old one, under another name or region, is deleted. */
export async function retireOld(aws: AwsClientFactory, credentials: BackendCredentials, old: Backend, written: WrittenSecret): Promise<void> {
  if (!old.credentialsSecretName || replacesInPlace(old, written)) return;
  // With the old credentials when they still open (they are the ones allowed on the old bucket's
  // secrets), else with the new ones.
  const opened = credentials.tryOpen(old);
  await deleteSecret({ factory: aws, credentials: opened.ok ? opened.source : written.source }, old.awsRegion, old.credentialsSecretName);
}

// A backend's sealed credentials in Secrets Manager, under /dstack/<bucket>/credentials/<backend id>
// (the database keeps the same sealed copy): writing them, removing them, and re-sealing every
// stored copy with the newest key. Replacing them on update is credentials-swap.ts.
import type { AwsClientFactory, AwsCredentialSource } from "../aws/clients.js";
import type { AwsResult } from "../aws/errors.js";
import { credentialsSecretName } from "../aws/names.js";
import { deleteSecret, putSecret } from "../aws/secrets-store.js";
import { awsUserError } from "../aws/user-errors.js";
import { SealedDataError } from "../crypto/sealing.js";
import type { PrismaClient } from "../db/prisma.js";
import type { UserErrorData } from "../errors/codes.js";
import { ForbiddenError } from "../errors/errors.js";
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import type { BackendCredentials } from "./backend-credentials.js";
import { CREDENTIALS_FIELD, unreadableCredentials } from "./backend-inputs.js";

export interface StoredCredentials {
  secretName: string | null;
  sealed: string | null;
}

export class CredentialSecrets {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly aws: AwsClientFactory,
    private readonly credentials: BackendCredentials,
  ) {}

  /** Seals an access key and writes the sealed copy to Secrets Manager; nothing for DEFAULT. */
  async store(backendId: string, source: AwsCredentialSource, region: string, bucket: string): Promise<{ userErrors: UserErrorData[] } | StoredCredentials> {
    if (source.mode === "DEFAULT") return { secretName: null, sealed: null };
    const sealed = this.credentials.seal(backendId, source);
    const secretName = credentialsSecretName(bucket, backendId);
    const put = await putSecret({ factory: this.aws, credentials: source }, region, { name: secretName, value: sealed, bucket });
    if (!put.ok) return { userErrors: [awsUserError(put.error, CREDENTIALS_FIELD)] };
    return { secretName, sealed };
  }

  /** Deletes a credentials secret, acting with `source` (the credentials allowed on its bucket's secrets). */
  remove(source: AwsCredentialSource, region: string, secretName: string): Promise<AwsResult<void>> {
    return deleteSecret({ factory: this.aws, credentials: source }, region, secretName);
  }

  /** Re-seals every stored credential with the newest key, in PostgreSQL and Secrets Manager. */
  async resealAll(viewer: Viewer): Promise<{ resealed: number; unchanged: number; userErrors: UserErrorData[] }> {
    if (!isGlobalAdmin(viewer)) throw new ForbiddenError("Only a global admin can re-seal credentials.");
    const backends = await this.prisma.backend.findMany({ where: { sealedCredentials: { not: null } } });
    const result = { resealed: 0, unchanged: 0, userErrors: [] as UserErrorData[] };
    for (const backend of backends) {
      const envelope = backend.sealedCredentials as string;
      // One envelope that cannot be opened (tampered, copied, unknown key id) is reported and
      // skipped; it must not stop the others from being re-sealed.
      let sealed: string;
      try {
        if (!this.credentials.needsReseal(envelope)) {
          result.unchanged++;
          continue;
        }
        sealed = this.credentials.reseal(backend.id, envelope);
      } catch (error) {
        if (!(error instanceof SealedDataError)) throw error;
        result.userErrors.push({ ...unreadableCredentials(error, ["backends", backend.id]), message: `Backend ${backend.name}: its stored credentials cannot be re-sealed (${error.message}).` });
        continue;
      }
      const secretName = backend.credentialsSecretName ?? credentialsSecretName(backend.awsBucket, backend.id);
      const session = { factory: this.aws, credentials: this.credentials.source(backend) };
      const put = await putSecret(session, backend.awsRegion, { name: secretName, value: sealed, bucket: backend.awsBucket });
      if (!put.ok) {
        result.userErrors.push({ ...awsUserError(put.error, ["backends", backend.id]), message: `Backend ${backend.name}: ${awsUserError(put.error, []).message}` });
        continue;
      }
      await this.prisma.backend.update({ where: { id: backend.id }, data: { sealedCredentials: sealed, credentialsSecretName: secretName } });
      result.resealed++;
    }
    return result;
  }
}

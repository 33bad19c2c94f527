// Backend rows to API objects. Only the fields below leave the service: the sealed credentials
// and anything else in the row stay behind.
import type { Backend as BackendRow } from "../../generated/prisma/client.js";
import type { Backend } from "../types/backend.type.js";
import type { ImageSpec } from "../../compute/index.js";
import { imageOf } from "../../backends/backend-image.js";

const describeImage = (spec: ImageSpec | null): string | null => (spec === null ? null : "amiId" in spec ? spec.amiId : `${spec.owner}/${spec.namePattern}`);

export function toBackend(row: BackendRow): Backend {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    type: row.type,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastReconciledAt: row.lastReconciledAt,
    aws:
      row.type === "AWS"
        ? {
            region: row.awsRegion,
            bucket: row.awsBucket,
            subnetId: row.awsSubnetId,
            credentialsMode: row.awsCredentialsMode,
            accessKeyIdHint: row.awsAccessKeyIdHint,
            accountId: row.awsAccountId,
            credentialsSecretName: row.credentialsSecretName,
            image: describeImage(imageOf(row.settings)),
          }
        : null,
  };
}

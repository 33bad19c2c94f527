// Compute operations act on a backend the caller can see, with a minimum project role, through
// an AWS session made from its stored credentials.
import type { Viewer } from "../users/viewer.js";
import type { AwsSession } from "../aws/discovery.js";
import { UserErrorCode } from "../errors/codes.js";
import { AwsQueryError } from "../errors/errors.js";
import type { Backend } from "../generated/prisma/client.js";
import type { ProjectRole } from "../generated/prisma/enums.js";
import type { BackendsService } from "../backends/backends.service.js";
import { assertRole } from "../projects/project-access.js";

export interface ScopedBackend {
  backend: Backend;
  session: AwsSession;
}

/**
 * The backend and an AWS session for it; null when it does not exist or is not visible.
 * Credentials that can no longer be opened are a coded error, not a 500.
 */
export async function scopedBackend(backends: BackendsService, viewer: Viewer, backendId: string, role: ProjectRole): Promise<ScopedBackend | null> {
  const found = await backends.find(viewer, backendId);
  if (!found) return null;
  assertRole(found.access, role);
  try {
    return { backend: found.backend, session: backends.sessionFor(found.backend) };
  } catch (error) {
    throw new AwsQueryError({
      code: UserErrorCode.AWS_CREDENTIALS_INVALID,
      message: `The backend's stored credentials cannot be used (${(error as Error).message}); enter the access key again with updateAwsBackend.`,
    });
  }
}

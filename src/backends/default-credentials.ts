// The server's own AWS identity ("DEFAULT" credentials): only global admins may attach or keep
// using it, only when the server enables it, and the form offers it only when the identity works.
import type { AwsClientFactory } from "../aws/clients.js";
import { AwsCache } from "../aws/cache.js";
import { getCallerIdentity } from "../aws/discovery.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { AwsCredentialsMode } from "../generated/prisma/enums.js";
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import { CREDENTIALS_FIELD } from "./backend-inputs.js";

/** How long the answer to "does the server's identity work?" is kept. */
const IDENTITY_TTL_MS = 60_000;

export class DefaultCredentials {
  private readonly identity = new AwsCache<{ ok: boolean }>({ ttlMs: IDENTITY_TTL_MS, maxEntries: 1 });

  constructor(
    private readonly aws: AwsClientFactory,
    private readonly enabled: boolean,
  ) {}

  /** Why `viewer` may not attach credentials of `mode`; undefined when they may. */
  problem(viewer: Viewer, mode: AwsCredentialsMode): UserErrorData | undefined {
    if (mode !== "DEFAULT") return undefined;
    if (!this.enabled) {
      return { code: UserErrorCode.AWS_DEFAULT_CREDENTIALS_DISABLED, message: "Default credentials are disabled on this server (AWS_DEFAULT_CREDENTIALS=disabled); use an access key.", field: [...CREDENTIALS_FIELD, "mode"] };
    }
    if (!isGlobalAdmin(viewer)) {
      return { code: UserErrorCode.AWS_DEFAULT_CREDENTIALS_DISABLED, message: "Default credentials are the server's own AWS identity; only a global admin may attach them. Use an access key.", field: [...CREDENTIALS_FIELD, "mode"] };
    }
    return undefined;
  }

  /**
   * Why `viewer` may not change a backend that keeps its credentials of `mode`: keeping DEFAULT
   * credentials means acting as the server's own identity again (validation calls AWS with it, and
   * a new bucket or region re-points it), so the same gate as attaching them applies.
   */
  keptProblem(viewer: Viewer, mode: AwsCredentialsMode): UserErrorData | undefined {
    const problem = this.problem(viewer, mode);
    if (!problem) return undefined;
    const message = this.enabled
      ? "This backend uses the server's default credentials (its own AWS identity), which only a global admin may use; to change the backend, give an access key in input.credentials."
      : "This backend uses the server's default credentials, which are disabled on this server (AWS_DEFAULT_CREDENTIALS=disabled); to change the backend, give an access key in input.credentials.";
    return { ...problem, message, field: CREDENTIALS_FIELD };
  }

  /** Whether the form may offer DEFAULT credentials to `viewer`: allowed, and the identity answers. */
  async available(viewer: Viewer): Promise<boolean> {
    if (!this.enabled || !isGlobalAdmin(viewer)) return false;
    const identity = await this.identity.remember("default", async () => ({
      ok: (await getCallerIdentity({ factory: this.aws, credentials: { mode: "DEFAULT" } })).ok,
    }));
    return identity.ok;
  }
}

// AWS backends: discovery for the form, and create/update/delete with credentials sealed by the
// service and kept in Secrets Manager under /dstack/<bucket>/credentials/<backend id>.
import { randomUUID } from "node:crypto";
import type { AwsClientFactory, AwsCredentialSource } from "../aws/clients.js";
import { getCallerIdentity, type AwsSession } from "../aws/discovery.js";
import type { AwsFailure } from "../aws/errors.js";
import { credentialsSecretName, deleteSecret, putSecret } from "../aws/secrets-store.js";
import { isGlobalAdmin, type Viewer } from "../users/viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import { ForbiddenError } from "../errors/errors.js";
import { SealedDataError } from "../crypto/sealing.js";
import type { Backend } from "../generated/prisma/client.js";
import type { AwsCredentialsMode } from "../generated/prisma/enums.js";
import type { PrismaClient } from "../db/prisma.js";
import type { AwsDiscoveryResult, AwsDiscoveryService } from "./discovery.service.js";
import { imageSpecFrom, withImage, type ImageInput } from "./backend-image.js";
import { accessKeyIdHint, type BackendCredentials } from "./backend-credentials.js";
import { assertRole, type ProjectAccess, type ProjectAccessService } from "../projects/project-access.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { checkSlug, invalid, isUuid, notFound } from "../errors/validation.js";
import { backendBusy, beingDeleted, type BackendDeletion, type DeleteBackendResult } from "./backend-deletion.js";
import { withBackendLock } from "./backend-lock.js";
import { retireOld, takeBack, type WrittenSecret } from "./credentials-swap.js";
import { updateProblem } from "./update-guard.js";

export interface CredentialsInput {
  mode: AwsCredentialsMode;
  accessKeyId?: string | null;
  secretAccessKey?: string | null;
}

export interface DiscoverInput {
  credentials?: CredentialsInput | null;
  region?: string | null;
  bucket?: string | null;
  subnetId?: string | null;
}

export interface CreateAwsBackendInput {
  image?: ImageInput | null;
  name?: string | null;
  region: string;
  bucket: string;
  subnetId?: string | null;
  credentials: CredentialsInput;
}

export interface UpdateAwsBackendInput {
  image?: ImageInput | null;
  name?: string | null;
  region?: string | null;
  bucket?: string | null;
  subnetId?: string | null;
  credentials?: CredentialsInput | null;
}

export interface BackendResult {
  backend?: Backend;
  userErrors: UserErrorData[];
}

export interface BackendsSettings {
  defaultCredentialsEnabled: boolean;
}

const CREDENTIALS_FIELD = ["input", "credentials"];
const DEFAULT_IDENTITY_TTL_MS = 60_000;

const awsFailureError = (failure: AwsFailure, field: string[]): UserErrorData => ({
  code: failure.kind === "ACCESS_DENIED" ? UserErrorCode.AWS_ACCESS_DENIED : failure.kind === "INVALID_CREDENTIALS" ? UserErrorCode.AWS_CREDENTIALS_INVALID : UserErrorCode.AWS_UNAVAILABLE,
  message: failure.kind === "ACCESS_DENIED" ? `These credentials are not allowed to perform ${failure.action}.` : failure.message,
  field,
});

/** Stored credentials that cannot be opened: say so, and how to recover, without a 500. */
const unreadableCredentials = (error: SealedDataError, field: string[]): UserErrorData => ({
  code: UserErrorCode.AWS_CREDENTIALS_INVALID,
  message: `The backend's stored credentials cannot be used (${error.message}). Enter the access key again (input.credentials) to replace them.`,
  field,
});

export class BackendsService {
  private defaultIdentity?: { checkedAt: number; ok: boolean };

  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
    private readonly discovery: AwsDiscoveryService,
    private readonly aws: AwsClientFactory,
    private readonly credentials: BackendCredentials,
    private readonly settings: BackendsSettings,
    private readonly deletion: BackendDeletion,
  ) {}

  /** An AWS session acting with a backend's stored credentials. */
  sessionFor(backend: Backend): AwsSession {
    return { factory: this.aws, credentials: this.credentials.source(backend) };
  }

  /** A backend with the caller's access to its project; null when absent or not visible. */
  async find(viewer: Viewer, id: string): Promise<{ backend: Backend; access: ProjectAccess } | null> {
    if (!isUuid(id)) return null;
    const backend = await this.prisma.backend.findUnique({ where: { id } });
    if (!backend) return null;
    const access = await this.access.find(viewer, backend.projectId);
    return access ? { backend, access } : null;
  }

  async discover(viewer: Viewer, input: DiscoverInput): Promise<AwsDiscoveryResult & { defaultCredentialsAvailable: boolean }> {
    const gate = input.credentials ? this.credentialsProblem(viewer, input.credentials) : undefined;
    const [defaultCredentialsAvailable, result] = await Promise.all([
      this.defaultCredentialsAvailable(viewer),
      this.discovery.discover({
        credentials: gate || !input.credentials ? undefined : toSource(input.credentials),
        region: input.region ?? undefined,
        bucket: input.bucket ?? undefined,
        subnetId: input.subnetId ?? undefined,
      }),
    ]);
    return { ...result, defaultCredentialsAvailable, userErrors: gate ? [gate, ...result.userErrors] : result.userErrors };
  }

  async create(viewer: Viewer, projectId: string, input: CreateAwsBackendInput): Promise<BackendResult> {
    const access = await this.access.require(viewer, projectId, "ADMIN");
    if (!access) return { userErrors: [notFound(["projectId"], "Project")] };
    const name = input.name ?? `aws-${input.region}`;
    const nameProblem = checkSlug(name, ["input", "name"], "Backend name");
    const image = input.image ? imageSpecFrom(input.image) : null;
    if (image && "problem" in image) return { userErrors: [image.problem] };
    const gate = this.credentialsProblem(viewer, input.credentials);
    if (nameProblem || gate) return { userErrors: [nameProblem, gate].filter((e): e is UserErrorData => e !== undefined) };

    const source = toSource(input.credentials);
    const found = await this.validate(source, input.region, input.bucket, input.subnetId);
    if ("userErrors" in found) return found;

    const id = randomUUID();
    const stored = await this.storeCredentials(id, source, input.region, input.bucket);
    if ("userErrors" in stored) return stored;
    try {
      const backend = await this.prisma.backend.create({
        data: {
          id,
          projectId,
          name,
          awsRegion: input.region,
          awsBucket: input.bucket,
          awsSubnetId: input.subnetId || null,
          awsCredentialsMode: input.credentials.mode,
          awsAccessKeyIdHint: source.mode === "ACCESS_KEY" ? accessKeyIdHint(source.accessKeyId) : null,
          awsAccountId: found.accountId,
          ...(image ? { settings: withImage({}, image.spec) } : {}),
          credentialsSecretName: stored.secretName,
          sealedCredentials: stored.sealed,
        },
      });
      return { backend, userErrors: [] };
    } catch (error) {
      // The row was not written: take back the secret so nothing is left behind in AWS.
      if (stored.secretName) await deleteSecret({ factory: this.aws, credentials: source }, input.region, stored.secretName);
      if (isUniqueViolation(error)) {
        return { userErrors: [{ code: UserErrorCode.NAME_TAKEN, message: `The project already has a backend named "${name}".`, field: ["input", "name"] }] };
      }
      throw error;
    }
  }

  async update(viewer: Viewer, id: string, input: UpdateAwsBackendInput): Promise<BackendResult> {
    const found = await this.find(viewer, id);
    if (!found) return { userErrors: [notFound(["id"], "Backend")] };
    assertRole(found.access, "ADMIN");
    const current = found.backend;
    if (current.deleteRequestedAt) return { userErrors: [beingDeleted()] };
    if (current.status === "PROVISIONING" || current.status === "TEARING_DOWN") {
      return { userErrors: [backendBusy(`The backend is ${current.status}; wait for the run to finish.`)] };
    }
    const region = input.region ?? current.awsRegion;
    const bucket = input.bucket ?? current.awsBucket;
    const subnetId = input.subnetId === undefined || input.subnetId === null ? current.awsSubnetId : input.subnetId || null;
    const name = input.name ?? current.name;
    const movesAccount = region !== current.awsRegion || bucket !== current.awsBucket;
    if (movesAccount && (await this.prisma.backendResource.count({ where: { backendId: id } })) > 0) {
      return { userErrors: [invalid(["input", input.region ? "region" : "bucket"], "The backend has provisioned resources; run teardownBackend before changing its region or bucket.")] };
    }
    const nameProblem = checkSlug(name, ["input", "name"], "Backend name");
    const image = input.image ? imageSpecFrom(input.image) : null;
    if (image && "problem" in image) return { userErrors: [image.problem] };
    // Keeping DEFAULT credentials means acting as the server's own identity again (validation
    // calls AWS with it, and a new bucket or region re-points it): the same gate as attaching them.
    const kept = input.credentials ? undefined : this.credentialsProblem(viewer, { mode: current.awsCredentialsMode });
    const gate = input.credentials
      ? this.credentialsProblem(viewer, input.credentials)
      : kept && {
          ...kept,
          message: this.settings.defaultCredentialsEnabled
            ? "This backend uses the server's default credentials (its own AWS identity), which only a global admin may use; to change the backend, give an access key in input.credentials."
            : "This backend uses the server's default credentials, which are disabled on this server (AWS_DEFAULT_CREDENTIALS=disabled); to change the backend, give an access key in input.credentials.",
          field: CREDENTIALS_FIELD,
        };
    if (nameProblem || gate) return { userErrors: [nameProblem, gate].filter((e): e is UserErrorData => e !== undefined) };

    let source: AwsCredentialSource;
    if (input.credentials) {
      source = toSource(input.credentials);
    } else {
      const stored = this.credentials.tryOpen(current);
      if (!stored.ok) return { userErrors: [unreadableCredentials(stored.error, CREDENTIALS_FIELD)] };
      source = stored.source;
    }
    const validated = await this.validate(source, region, bucket, subnetId);
    if ("userErrors" in validated) return validated;

    let written: WrittenSecret | null = null;
    if (input.credentials || movesAccount) {
      const stored = await this.storeCredentials(id, source, region, bucket);
      if ("userErrors" in stored) return stored;
      written = { ...stored, region, bucket, source };
    }
    let outcome;
    try {
      outcome = await withBackendLock(this.prisma, id, async (tx, now) => {
        const problem = await updateProblem(tx, current, now, movesAccount ? ["input", input.region ? "region" : "bucket"] : null);
        if (problem) return { problem };
        const backend = await tx.backend.update({
          where: { id },
          data: {
            name,
            awsRegion: region,
            awsBucket: bucket,
            awsSubnetId: subnetId,
            awsAccountId: validated.accountId,
            ...(image ? { settings: withImage(current.settings, image.spec) } : {}),
            ...(input.credentials
              ? { awsCredentialsMode: input.credentials.mode, awsAccessKeyIdHint: source.mode === "ACCESS_KEY" ? accessKeyIdHint(source.accessKeyId) : null }
              : {}),
            ...(written ? { credentialsSecretName: written.secretName, sealedCredentials: written.sealed } : {}),
          },
        });
        return { backend };
      });
    } catch (error) {
      if (written) await takeBack(this.aws, current, written);
      if (isUniqueViolation(error)) {
        return { userErrors: [{ code: UserErrorCode.NAME_TAKEN, message: `The project already has a backend named "${name}".`, field: ["input", "name"] }] };
      }
      throw error;
    }
    if (!outcome?.backend) {
      if (written) await takeBack(this.aws, current, written);
      return { userErrors: [outcome?.problem ?? notFound(["id"], "Backend")] };
    }
    if (written) await retireOld(this.aws, this.credentials, current, written);
    return { backend: outcome.backend, userErrors: [] };
  }

  async delete(viewer: Viewer, id: string): Promise<DeleteBackendResult> {
    const found = await this.find(viewer, id);
    if (!found) return { userErrors: [notFound(["id"], "Backend")] };
    assertRole(found.access, "ADMIN");
    return this.deletion.delete(id);
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
      const put = await putSecret(this.sessionFor(backend), backend.awsRegion, { name: secretName, value: sealed, bucket: backend.awsBucket });
      if (!put.ok) {
        result.userErrors.push({ ...awsFailureError(put.error, ["backends", backend.id]), message: `Backend ${backend.name}: ${awsFailureError(put.error, []).message}` });
        continue;
      }
      await this.prisma.backend.update({ where: { id: backend.id }, data: { sealedCredentials: sealed, credentialsSecretName: secretName } });
      result.resealed++;
    }
    return result;
  }

  /** DEFAULT credentials are the server's own identity: global admins only, and only when enabled. */
  private credentialsProblem(viewer: Viewer, credentials: CredentialsInput): UserErrorData | undefined {
    if (credentials.mode !== "DEFAULT") return undefined;
    if (!this.settings.defaultCredentialsEnabled) {
      return { code: UserErrorCode.AWS_DEFAULT_CREDENTIALS_DISABLED, message: "Default credentials are disabled on this server (AWS_DEFAULT_CREDENTIALS=disabled); use an access key.", field: [...CREDENTIALS_FIELD, "mode"] };
    }
    if (!isGlobalAdmin(viewer)) {
      return { code: UserErrorCode.AWS_DEFAULT_CREDENTIALS_DISABLED, message: "Default credentials are the server's own AWS identity; only a global admin may attach them. Use an access key.", field: [...CREDENTIALS_FIELD, "mode"] };
    }
    return undefined;
  }

  private async defaultCredentialsAvailable(viewer: Viewer): Promise<boolean> {
    if (!this.settings.defaultCredentialsEnabled || !isGlobalAdmin(viewer)) return false;
    const now = Date.now();
    if (!this.defaultIdentity || now - this.defaultIdentity.checkedAt > DEFAULT_IDENTITY_TTL_MS) {
      const identity = await getCallerIdentity({ factory: this.aws, credentials: { mode: "DEFAULT" } });
      this.defaultIdentity = { checkedAt: now, ok: identity.ok };
    }
    return this.defaultIdentity.ok;
  }

  /** Full discovery on complete input; any problem refuses the change. */
  private async validate(
    source: AwsCredentialSource,
    region: string,
    bucket: string,
    subnetId: string | null | undefined,
  ): Promise<{ userErrors: UserErrorData[] } | { accountId: string }> {
    const result = await this.discovery.discover({ credentials: source, region, bucket, subnetId: subnetId || undefined });
    if (result.userErrors.length) return { userErrors: result.userErrors };
    if (!result.identity) return { userErrors: [{ code: UserErrorCode.AWS_CREDENTIALS_INVALID, message: "The credentials could not be verified.", field: CREDENTIALS_FIELD }] };
    return { accountId: result.identity.accountId };
  }

  /** Seals an access key and writes the sealed copy to Secrets Manager; nothing for DEFAULT. */
  private async storeCredentials(
    backendId: string,
    source: AwsCredentialSource,
    region: string,
    bucket: string,
  ): Promise<{ userErrors: UserErrorData[] } | { secretName: string | null; sealed: string | null }> {
    if (source.mode === "DEFAULT") return { secretName: null, sealed: null };
    const sealed = this.credentials.seal(backendId, source);
    const secretName = credentialsSecretName(bucket, backendId);
    const put = await putSecret({ factory: this.aws, credentials: source }, region, { name: secretName, value: sealed, bucket });
    if (!put.ok) return { userErrors: [awsFailureError(put.error, CREDENTIALS_FIELD)] };
    return { secretName, sealed };
  }
}

function toSource(input: CredentialsInput): AwsCredentialSource {
  return input.mode === "DEFAULT"
    ? { mode: "DEFAULT" }
    : { mode: "ACCESS_KEY", accessKeyId: input.accessKeyId?.trim() ?? "", secretAccessKey: input.secretAccessKey ?? "" };
}

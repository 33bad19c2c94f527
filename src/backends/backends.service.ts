// AWS backends: discovery for the form, and create/update/delete. Credentials are checked by
// default-credentials.ts (the server's own identity) and kept sealed by credential-secrets.ts;
// deletion is backend-deletion.ts.
import { randomUUID } from "node:crypto";
import type { AwsClientFactory, AwsCredentialSource } from "../aws/clients.js";
import type { AwsSession } from "../aws/discovery.js";
import type { Viewer } from "../users/viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { Backend } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import type { AwsDiscoveryResult, AwsDiscoveryService } from "./discovery.service.js";
import { imageSpecFrom, withImage } from "./backend-image.js";
import { accessKeyIdHint, type BackendCredentials } from "./backend-credentials.js";
import {
  CREDENTIALS_FIELD,
  toSource,
  unreadableCredentials,
  type BackendResult,
  type CreateAwsBackendInput,
  type DiscoverInput,
  type UpdateAwsBackendInput,
} from "./backend-inputs.js";
import { CredentialSecrets } from "./credential-secrets.js";
import { DefaultCredentials } from "./default-credentials.js";
import { assertRole, type ProjectAccess, type ProjectAccessService } from "../projects/project-access.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { checkSlug, invalid, isUuid, notFound } from "../errors/validation.js";
import { backendBusy, beingDeleted, type BackendDeletion, type DeleteBackendResult } from "./backend-deletion.js";
import { withBackendLock } from "./backend-lock.js";
import { retireOld, takeBack, type WrittenSecret } from "./credentials-swap.js";
import { updateProblem } from "./update-guard.js";

export interface BackendsSettings {
  defaultCredentialsEnabled: boolean;
}

const nameTaken = (name: string): BackendResult => ({
  userErrors: [{ code: UserErrorCode.NAME_TAKEN, message: `The project already has a backend named "${name}".`, field: ["input", "name"] }],
});

const present = (errors: (UserErrorData | undefined)[]): UserErrorData[] => errors.filter((e): e is UserErrorData => e !== undefined);

export class BackendsService {
  private readonly defaults: DefaultCredentials;
  private readonly secrets: CredentialSecrets;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
    private readonly discovery: AwsDiscoveryService,
    private readonly aws: AwsClientFactory,
    private readonly credentials: BackendCredentials,
    settings: BackendsSettings,
    private readonly deletion: BackendDeletion,
  ) {
    this.defaults = new DefaultCredentials(aws, settings.defaultCredentialsEnabled);
    this.secrets = new CredentialSecrets(prisma, aws, credentials);
  }

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
    const gate = input.credentials ? this.defaults.problem(viewer, input.credentials.mode) : undefined;
    const [defaultCredentialsAvailable, result] = await Promise.all([
      this.defaults.available(viewer),
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
    const gate = this.defaults.problem(viewer, input.credentials.mode);
    if (nameProblem || gate) return { userErrors: present([nameProblem, gate]) };

    const source = toSource(input.credentials);
    const found = await this.validate(source, input.region, input.bucket, input.subnetId);
    if ("userErrors" in found) return found;

    const id = randomUUID();
    const stored = await this.secrets.store(id, source, input.region, input.bucket);
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
      if (stored.secretName) await this.secrets.remove(source, input.region, stored.secretName);
      if (isUniqueViolation(error)) return nameTaken(name);
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
    const gate = input.credentials ? this.defaults.problem(viewer, input.credentials.mode) : this.defaults.keptProblem(viewer, current.awsCredentialsMode);
    if (nameProblem || gate) return { userErrors: present([nameProblem, gate]) };

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
      const stored = await this.secrets.store(id, source, region, bucket);
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
      if (isUniqueViolation(error)) return nameTaken(name);
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
  resealAll(viewer: Viewer): Promise<{ resealed: number; unchanged: number; userErrors: UserErrorData[] }> {
    return this.secrets.resealAll(viewer);
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
}

// Project secrets: write-only values in Secrets Manager (/dstack/<bucket>/secrets/<project>/<name>)
// readable by the backend's instance role; names and dates kept in PostgreSQL (the seed's policy
// has no secretsmanager:ListSecrets).
import { deleteProjectSecret, projectSecretNameProblem, setProjectSecret } from "../aws/compute/project-secrets.js";
import type { Viewer } from "../users/viewer.js";
import type { UserErrorData } from "../errors/codes.js";
import type { ProjectSecret } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import type { BackendsService } from "../backends/backends.service.js";
import { invalid, notFound } from "../errors/validation.js";
import { scopedBackend, type ScopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";
import { beingDeleted } from "../backends/backend-deletion.js";
import { withBackendLock } from "../backends/backend-lock.js";

const MAX_SECRET_BYTES = 64 * 1024;

export class ProjectSecretsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly backends: BackendsService,
  ) {}

  private async scoped(viewer: Viewer, projectId: string, backendId: string, role: "VIEWER" | "ADMIN"): Promise<ScopedBackend | null> {
    const scoped = await scopedBackend(this.backends, viewer, backendId, role);
    return scoped && scoped.backend.projectId === projectId ? scoped : null;
  }

  async list(viewer: Viewer, projectId: string, backendId: string): Promise<ProjectSecret[]> {
    if (!(await this.scoped(viewer, projectId, backendId, "VIEWER"))) return [];
    return this.prisma.projectSecret.findMany({ where: { projectId, backendId }, orderBy: { name: "asc" } });
  }

  async set(viewer: Viewer, projectId: string, backendId: string, input: { name: string; value: string }): Promise<{ secret?: ProjectSecret; userErrors: UserErrorData[] }> {
    const scoped = await this.scoped(viewer, projectId, backendId, "ADMIN");
    if (!scoped) return { userErrors: [notFound(["backendId"], "Backend of this project")] };
    const nameProblem = projectSecretNameProblem(input.name);
    if (nameProblem) return { userErrors: [invalid(["input", "name"], nameProblem)] };
    if (input.value.length === 0 || Buffer.byteLength(input.value) > MAX_SECRET_BYTES) {
      return { userErrors: [invalid(["input", "value"], `The value must be 1 byte to ${MAX_SECRET_BYTES / 1024} KiB.`)] };
    }
    const { backend, session } = scoped;
    if (backend.deleteRequestedAt) return { userErrors: [beingDeleted(["backendId"])] };
    const target = { bucket: backend.awsBucket, projectId, name: input.name };
    const stored = await setProjectSecret(session, backend.awsRegion, { ...target, value: input.value });
    if (!stored.ok) return { userErrors: [awsUserError(stored.error, ["input", "name"])] };
    // Recorded under the backend's lock: a deleteBackend that started meanwhile has not seen this
    // secret, so it is taken back here rather than left in AWS with no record.
    const saved = await withBackendLock(this.prisma, backendId, async (tx, now) => {
      if (now.deleteRequestedAt) return { problem: beingDeleted(["backendId"]) };
      const secret = await tx.projectSecret.upsert({
        where: { backendId_projectId_name: { backendId, projectId, name: input.name } },
        create: { backendId, projectId, name: input.name, secretName: stored.value.secretId },
        update: { secretName: stored.value.secretId, updatedAt: new Date() },
      });
      return { secret };
    });
    if (!saved?.secret) {
      await deleteProjectSecret(session, backend.awsRegion, target);
      return { userErrors: [saved?.problem ?? notFound(["backendId"], "Backend of this project")] };
    }
    return { secret: saved.secret, userErrors: [] };
  }

  async delete(viewer: Viewer, projectId: string, backendId: string, name: string): Promise<{ deletedName?: string; userErrors: UserErrorData[] }> {
    const scoped = await this.scoped(viewer, projectId, backendId, "ADMIN");
    if (!scoped) return { userErrors: [notFound(["backendId"], "Backend of this project")] };
    const existing = await this.prisma.projectSecret.findUnique({ where: { backendId_projectId_name: { backendId, projectId, name } } });
    if (!existing) return { userErrors: [notFound(["name"], "Secret")] };
    const deleted = await deleteProjectSecret(scoped.session, scoped.backend.awsRegion, { bucket: scoped.backend.awsBucket, projectId, name });
    if (!deleted.ok) return { userErrors: [awsUserError(deleted.error, ["name"])] };
    await this.prisma.projectSecret.deleteMany({ where: { id: existing.id } }); // gone already if the backend was deleted meanwhile
    return { deletedName: name, userErrors: [] };
  }
}

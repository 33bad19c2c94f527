// Deleting a backend without forgetting anything it has in AWS. Under the backend's lock it is
// refused while a run is active, an instance is not yet TERMINATED, or provisioning's resources
// are still there (teardownBackend removes those); otherwise the backend is marked as being
// deleted, so nothing new can be added to it. Then, outside the lock, the secrets the service
// stored for it (its credentials and the project secrets) are deleted in AWS, and only then is
// the row deleted. When AWS refuses, the mark is taken back and the backend stays, with the reason.
import type { AwsClientFactory } from "../aws/clients.js";
import type { AwsFailure } from "../aws/errors.js";
import { deleteSecret } from "../aws/secrets-store.js";
import { awsUserError } from "../aws/user-errors.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import { notFound } from "../errors/validation.js";
import type { Transaction } from "../db/advisory-lock.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Backend } from "../generated/prisma/client.js";
import type { BackendCredentials } from "./backend-credentials.js";
import { withBackendLock } from "./backend-lock.js";

export interface DeleteBackendResult {
  deletedBackendId?: string;
  userErrors: UserErrorData[];
}

/** Instance states after which nothing runs and nothing can start again. */
export const ENDED_INSTANCE_STATUSES = ["TERMINATED", "FAILED"] as const;

export const backendBusy = (message: string, field = ["id"]): UserErrorData => ({ code: UserErrorCode.BACKEND_BUSY, message, field });

/** The BACKEND_BUSY answer for a backend that is being deleted, to any request that would add to it. */
export const beingDeleted = (field = ["id"]): UserErrorData =>
  backendBusy("The backend is being deleted (deleteBackend); nothing can be added to it. If that deletion was interrupted, call deleteBackend again.", field);

/** An active provisioning or teardown run, as a BACKEND_BUSY error; null when none. Read under the backend's lock. */
export async function activeRunProblem(tx: Transaction, backendId: string): Promise<UserErrorData | null> {
  const run = await tx.provisioningRun.findFirst({ where: { backendId, status: { in: ["QUEUED", "RUNNING"] } }, select: { kind: true } });
  return run ? backendBusy(`A ${run.kind.toLowerCase()} run is active on this backend; wait for it to finish.`) : null;
}

/** Instances that are not TERMINATED or FAILED, as a BACKEND_BUSY error; null when none. Read under the backend's lock. */
export async function liveInstancesProblem(tx: Transaction, backendId: string): Promise<UserErrorData | null> {
  const live = await tx.instance.count({ where: { backendId, status: { notIn: [...ENDED_INSTANCE_STATUSES] } } });
  if (live === 0) return null;
  return backendBusy(`${live} instance(s) of this backend are not TERMINATED yet; terminate them (terminateInstance) and wait until EC2 reports them terminated.`);
}

/** What keeps the backend from being deleted besides provisioned resources: an active run or a live instance. */
export async function activeWork(tx: Transaction, backendId: string): Promise<UserErrorData | null> {
  return (await activeRunProblem(tx, backendId)) ?? (await liveInstancesProblem(tx, backendId));
}

/** Provisioning's resources still recorded for the backend, as a BACKEND_BUSY error naming them; null when none. */
export async function provisionedResources(tx: Transaction, backendId: string): Promise<UserErrorData | null> {
  const resources = await tx.backendResource.findMany({ where: { backendId }, orderBy: { createdAt: "asc" }, select: { kind: true, identifier: true } });
  if (resources.length === 0) return null;
  const named = resources.map((resource) => `${resource.kind} ${resource.identifier}`).join(", ");
  return backendBusy(
    `Provisioning created AWS resources that are still there: ${named}. Run teardownBackend to remove them, then delete the backend; or call deleteBackend with teardown: true to do both.`,
  );
}

export class BackendDeletion {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly aws: AwsClientFactory,
    private readonly credentials: BackendCredentials,
  ) {}

  /** Deletes the backend (the caller has checked the viewer's role). */
  async delete(backendId: string): Promise<DeleteBackendResult> {
    const marked = await withBackendLock(this.prisma, backendId, async (tx, backend) => {
      const problem = (await activeWork(tx, backendId)) ?? (await provisionedResources(tx, backendId));
      if (problem) return { problem };
      const marked = await tx.backend.update({ where: { id: backendId }, data: { deleteRequestedAt: backend.deleteRequestedAt ?? new Date() } });
      const secrets = await tx.projectSecret.findMany({ where: { backendId }, select: { name: true, secretName: true } });
      return { backend: marked, secrets, wasMarked: backend.deleteRequestedAt !== null };
    });
    if (!marked) return { userErrors: [notFound(["id"], "Backend")] };
    if (marked.problem) return { userErrors: [marked.problem] };

    const failure = await this.deleteStoredSecrets(marked.backend, marked.secrets);
    if (failure) {
      // The backend stays as it was (unless an earlier, interrupted deletion had marked it).
      if (!marked.wasMarked) await withBackendLock(this.prisma, backendId, (tx) => tx.backend.update({ where: { id: backendId }, data: { deleteRequestedAt: null } }));
      return { userErrors: [failure] };
    }
    const deleted = await withBackendLock(this.prisma, backendId, async (tx) => {
      // Nothing can have been added while the backend was marked; checked again all the same.
      const problem = (await activeWork(tx, backendId)) ?? (await provisionedResources(tx, backendId));
      if (problem) return { problem };
      await tx.backend.delete({ where: { id: backendId } });
      return { deletedBackendId: backendId };
    });
    if (!deleted) return { userErrors: [notFound(["id"], "Backend")] };
    return deleted.problem ? { userErrors: [deleted.problem] } : { deletedBackendId: backendId, userErrors: [] };
  }

  /**
   * The project secrets and the credentials secret, in AWS. Stored credentials that cannot be
   * opened (tampered, or sealed with a key that was removed) or that AWS no longer accepts cannot
   * delete anything: without project secrets the row goes anyway, so a broken backend can always be
   * removed (the credentials secret left behind holds only the sealed copy). Project secrets are
   * never left behind that way: enter the access key again first.
   */
  private async deleteStoredSecrets(backend: Backend, secrets: { name: string; secretName: string }[]): Promise<UserErrorData | null> {
    const opened = this.credentials.tryOpen(backend);
    if (!opened.ok) {
      if (secrets.length === 0) return null;
      return {
        code: UserErrorCode.AWS_CREDENTIALS_INVALID,
        message: `The backend's stored credentials cannot be used (${opened.error.message}), so its project secrets (${secrets.map((s) => s.name).join(", ")}) cannot be deleted from AWS. Enter the access key again (updateAwsBackend), then delete the backend.`,
        field: ["id"],
      };
    }
    const session = { factory: this.aws, credentials: opened.source };
    for (const secret of secrets) {
      const deleted = await deleteSecret(session, backend.awsRegion, secret.secretName);
      if (!deleted.ok && deleted.error.kind !== "NOT_FOUND") return awsProblem(deleted.error, `Project secret ${secret.name} could not be deleted from AWS`);
    }
    if (!backend.credentialsSecretName) return null;
    const deleted = await deleteSecret(session, backend.awsRegion, backend.credentialsSecretName);
    if (deleted.ok || deleted.error.kind === "NOT_FOUND" || (deleted.error.kind === "INVALID_CREDENTIALS" && secrets.length === 0)) return null;
    return awsProblem(deleted.error, "The stored credentials secret could not be deleted from AWS");
  }
}

function awsProblem(failure: AwsFailure, what: string): UserErrorData {
  const { code } = awsUserError(failure, ["id"]);
  const why = failure.kind === "ACCESS_DENIED" ? `these credentials are not allowed to perform ${failure.action}` : failure.message;
  return { code, message: `${what} (${why}); the backend was not deleted.`, field: ["id"] };
}

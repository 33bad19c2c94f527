// What updateAwsBackend checks again under the backend's lock, just before it writes: the checks
// made before validating with AWS may no longer hold by then.
import type { Transaction } from "../db/advisory-lock.js";
import type { Backend } from "../generated/prisma/client.js";
import { invalid } from "../errors/validation.js";
import type { UserErrorData } from "../errors/codes.js";
import { backendBusy, beingDeleted } from "./backend-deletion.js";

/**
 * Why the backend, as it is now, must not take the update prepared from `before`; null when it may.
 * `movesAccount`: the field that changes the region or bucket, when one does.
 */
export async function updateProblem(tx: Transaction, before: Backend, now: Backend, movesAccount: string[] | null): Promise<UserErrorData | null> {
  if (now.deleteRequestedAt) return beingDeleted();
  if (now.status === "PROVISIONING" || now.status === "TEARING_DOWN") return backendBusy(`The backend is ${now.status}; wait for the run to finish.`);
  // Another update changed where the credentials live meanwhile: this one was validated (and its
  // secret written) against the old place.
  const moved = ["awsRegion", "awsBucket", "credentialsSecretName", "sealedCredentials"] as const;
  if (moved.some((key) => now[key] !== before[key])) return backendBusy("The backend was changed by another request meanwhile; read it again and retry.");
  if (movesAccount && (await tx.backendResource.count({ where: { backendId: now.id } })) > 0) {
    return invalid(movesAccount, "The backend has provisioned resources; run teardownBackend before changing its region or bucket.");
  }
  return null;
}

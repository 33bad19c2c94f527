// Every change of one backend (launch, terminate, provision, teardown, update, delete, project
// secrets, the instance sync's writes) is decided under the backend's lock: checking its state and
// writing the records happen together, so two requests can never both pass a check that only one
// of them may pass (a launch and a delete, a teardown and a provision). AWS is called before or
// after, never under the lock.
import type { Backend } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { lockName, withLocks, type Transaction } from "../db/advisory-lock.js";

export const backendLockName = (backendId: string): string => lockName("backend", backendId);

/**
 * Runs `work` holding the backend's lock, with the backend as it is now (read under the lock).
 * Returns null without running `work` when the backend no longer exists (deleted meanwhile):
 * callers answer NOT_FOUND.
 */
export function withBackendLock<T>(prisma: PrismaClient, backendId: string, work: (tx: Transaction, backend: Backend) => Promise<T>): Promise<T | null> {
  return withLocks(prisma, backendLockName(backendId), async (tx) => {
    const backend = await tx.backend.findUnique({ where: { id: backendId } });
    return backend ? work(tx, backend) : null;
  });
}


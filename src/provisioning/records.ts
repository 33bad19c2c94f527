// The resources provisioning recorded for a backend, as other capabilities may use them: the
// reconciler reads them to check for drift, and drops the record of a resource AWS reports gone, so
// that the next provisionBackend creates it again (a recorded resource is taken as existing).
import type { PrismaClient } from "../db/prisma.js";
import type { BackendResource, Prisma } from "../generated/prisma/client.js";

export { RESOURCE_KIND } from "./steps/common.js";

export function recordedResources(prisma: PrismaClient, backendId: string): Promise<BackendResource[]> {
  return prisma.backendResource.findMany({ where: { backendId }, orderBy: { createdAt: "asc" } });
}

export async function forgetRecords(tx: Prisma.TransactionClient, backendId: string, records: readonly Pick<BackendResource, "kind" | "identifier">[]): Promise<void> {
  for (const record of records) await tx.backendResource.deleteMany({ where: { backendId, kind: record.kind, identifier: record.identifier } });
}

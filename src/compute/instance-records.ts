// Every change of an Instance record is decided under its backend's lock, on the record as it is
// at that moment: a launch recording its instance id, a termination, the sync's observations.
// So a decision made from an older reading (the sync's, before a slow DescribeInstances) can never
// overwrite a newer one (a termination asked for meanwhile).
import type { Instance } from "../generated/prisma/client.js";
import type { PrismaClient } from "../db/prisma.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { toInstanceView, type InstanceView } from "./instance-view.js";

export type InstanceChange = Partial<
  Pick<Instance, "status" | "statusReason" | "awsInstanceId" | "spotRequestId" | "terminatedAt" | "pricePerHour" | "terminationRequestedAt">
>;

export const isEnded = (row: Pick<Instance, "status">): boolean => row.status === "TERMINATED" || row.status === "FAILED";

export class InstanceRecords {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly publish: (view: InstanceView) => void,
  ) {}

  /**
   * Reads the record under its backend's lock and writes what `decide` returns for it (nothing
   * when it returns null). The new state is published. Null when the record (or its backend) is gone.
   */
  async change(backendId: string, id: string, decide: (row: Instance) => InstanceChange | null): Promise<{ row: Instance; changed: boolean } | null> {
    const result = await withBackendLock(this.prisma, backendId, async (tx) => {
      const row = await tx.instance.findUnique({ where: { id } });
      if (!row) return null;
      const data = decide(row);
      if (!data) return { row, changed: false };
      return { row: await tx.instance.update({ where: { id }, data }), changed: true };
    });
    if (result?.changed) this.publish(toInstanceView(result.row));
    return result ?? null;
  }
}

// What the last successful provisioning of a backend made, typed, for the capabilities that use it
// (compute launches into the security group with the instance profile). They read these outputs
// and never provisioning's step rows or IAM naming rules.
import type { PrismaClient } from "../db/prisma.js";
import type { Transaction } from "../db/advisory-lock.js";
import { securityGroupStep, instanceProfileStep } from "./steps/index.js";

export interface ProvisioningOutputs {
  securityGroupId: string;
  instanceProfileArn: string;
  /** The profile's name: what RunInstances takes (the last segment of the ARN's path). */
  instanceProfileName: string;
}

/** The outputs of the newest SUCCEEDED provisioning run; null when the backend was never provisioned. */
export async function provisioningOutputs(prisma: PrismaClient | Transaction, backendId: string): Promise<ProvisioningOutputs | null> {
  const steps = await prisma.provisioningStep.findMany({
    where: { name: { in: [securityGroupStep.name, instanceProfileStep.name] }, status: "DONE", run: { backendId, kind: "PROVISION", status: "SUCCEEDED" } },
    orderBy: { finishedAt: "desc" },
    select: { name: true, resourceId: true },
  });
  const newest = (name: string) => steps.find((step) => step.name === name)?.resourceId ?? null;
  const securityGroupId = newest(securityGroupStep.name);
  const instanceProfileArn = newest(instanceProfileStep.name);
  if (!securityGroupId || !instanceProfileArn) return null;
  return { securityGroupId, instanceProfileArn, instanceProfileName: instanceProfileArn.split("/").pop()! };
}

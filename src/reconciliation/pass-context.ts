// What every part of a reconciliation pass over one backend works with, and the structured event
// each action is reported as (logged, and handed to listeners such as an audit log).
import type { AwsSession } from "../aws/discovery.js";
import type { PrismaClient } from "../db/prisma.js";
import type { Backend } from "../generated/prisma/client.js";
import type { InstanceView } from "../compute/instance-view.js";
import type { Observation } from "./findings.js";

/** One thing the reconciler did or found, e.g. "reconciler.terminate" of an orphan. */
export interface ReconcilerEvent {
  operation: "reconciler.terminate" | "reconciler.mark-terminated" | "reconciler.adopt" | "reconciler.finding" | "reconciler.status";
  backendId: string;
  projectId: string;
  kind?: Observation["kind"];
  action?: Observation["action"];
  resourceType: string;
  resourceId: string;
  message: string;
}

export interface PassContext {
  prisma: PrismaClient;
  backend: Backend;
  session: AwsSession;
  now: Date;
  orphanGraceMs: number;
  publishInstance(view: InstanceView): void;
  report(event: ReconcilerEvent): void;
}

/** What the instance part of a pass saw (lasting findings) and whether it changed anything. */
export interface PartResult {
  observed: Observation[];
  /** False when the part could not look (a listing failed transiently): its open findings stay as they are. */
  looked: boolean;
  changed: boolean;
}

export const eventOf = (context: PassContext, operation: ReconcilerEvent["operation"], observation: Omit<Observation, "kind" | "action"> & Partial<Observation>): ReconcilerEvent => ({
  operation,
  backendId: context.backend.id,
  projectId: context.backend.projectId,
  ...observation,
});

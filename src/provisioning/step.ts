// The contract between the run executor (run-executor.ts) and the provisioning steps
// (steps/*.ts). A step is idempotent: get-or-create, then reconcile; run twice, it changes
// nothing the second time. Teardown removes only what was recorded as created for the backend.
import type { AwsSession } from "../aws/discovery.js";
import type { Tag } from "../aws/names.js";

export interface BackendTarget {
  id: string;
  projectId: string;
  region: string;
  bucket: string;
  /** bucket with '-' replaced by '_', as IAM names use it. */
  bucketUnderscore: string;
  subnetId: string | null;
}

/** A resource provisioning created (and so teardown may delete). */
export interface RecordedResource {
  kind: string;
  identifier: string;
  details: Record<string, unknown>;
}

export interface StepContext {
  backend: BackendTarget;
  session: AwsSession;
  /** Tags every created resource carries: owner=dstack, dstack_bucket, dstack_backend. */
  tags: Tag[];
  /** CIDRs allowed to reach instances over SSH. */
  sshIngressCidrs: string[];
  /** Resources recorded for this backend by earlier runs. */
  recorded: RecordedResource[];
  /** Records a resource this step created; must be called right after creation succeeds. */
  record(resource: RecordedResource): Promise<void>;
  /** Forgets a resource after teardown deleted it (or found it gone). */
  forget(kind: string, identifier: string): Promise<void>;
  /** Aborted when the server is stopping: stop at the next safe point. */
  signal: AbortSignal;
}

export interface StepOutcome {
  /** What the step created or found, e.g. an ARN or "sg-0abc…". */
  resourceId?: string;
  /** A note for the user, e.g. "already existed" or "left behind: …". */
  message?: string;
  /** Nothing to do (e.g. teardown of a resource never created). */
  skipped?: boolean;
}

export interface ProvisioningStepDefinition {
  /** Stable name shown to users, e.g. "iam-policy". */
  name: string;
  provision(context: StepContext): Promise<StepOutcome>;
  teardown(context: StepContext): Promise<StepOutcome>;
}

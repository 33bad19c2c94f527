import { Field, ID, Int, ObjectType } from "type-graphql";
import { RunKind, RunStatus, StepStatus } from "../../generated/prisma/enums.js";
import { UserError } from "./user-error.type.js";
import "../enums.js";

@ObjectType({ description: "One step of a provisioning run." })
export class ProvisioningStep {
  @Field({ description: "Step name: iam-policy, iam-role, instance-profile, security-group, log-groups, bucket-lifecycle." })
  name: string;

  @Field(() => StepStatus, { description: "Where the step is." })
  status: StepStatus;

  @Field(() => String, { nullable: true, description: "What the step created or found (an ARN, a group id, names)." })
  resourceId: string | null;

  @Field(() => Int, { description: "Tries so far, retries of throttled or not-yet-consistent calls included." })
  attempts: number;

  @Field(() => String, { nullable: true, description: "Why it failed (naming the IAM action or parameter), or a note." })
  message: string | null;

  @Field(() => Date, { nullable: true, description: "When the step started." })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the step finished." })
  finishedAt: Date | null;
}

@ObjectType({ description: "A durable, resumable run that provisions or tears down a backend's AWS resources." })
export class ProvisioningRun {
  @Field(() => ID, { description: "Opaque id; subscribe to provisioningRunUpdated with it." })
  id: string;

  /** Not a GraphQL field: resolves `backend`. */
  backendId: string;

  @Field(() => RunKind, { description: "Provision or teardown." })
  kind: RunKind;

  @Field(() => RunStatus, { description: "Where the run is." })
  status: RunStatus;

  @Field(() => [ProvisioningStep], { description: "Its steps, in execution order." })
  steps: ProvisioningStep[];

  @Field(() => String, { nullable: true, description: "Why the run failed (the failed step and its reason; for teardown, what is left behind)." })
  error: string | null;

  @Field({ description: "When the run was requested." })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When execution started." })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the run finished." })
  finishedAt: Date | null;
}

@ObjectType({ description: "Result of provisionBackend or teardownBackend." })
export class ProvisioningRunPayload {
  @Field(() => ProvisioningRun, { nullable: true, description: "The run started, resumed or already active." })
  run?: ProvisioningRun;

  @Field(() => [UserError], { description: "Problems; BACKEND_BUSY when a run of the other kind is active." })
  userErrors: UserError[];
}

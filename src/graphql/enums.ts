// GraphQL enums, registered once with descriptions for every value (the playground shows them).
import { registerEnumType } from "type-graphql";
import { UserErrorCode } from "../errors/codes.js";
import {
  AuditOutcome,
  AwsCredentialsMode,
  BackendStatus,
  BackendType,
  GlobalRole,
  InstanceMarket,
  InstanceStatus,
  ProjectRole,
  ReconciliationAction,
  ReconciliationFindingKind,
  RunKind,
  RunStatus,
  StepStatus,
} from "../generated/prisma/enums.js";

registerEnumType(GlobalRole, {
  name: "GlobalRole",
  description: "A user's role across the whole service.",
  valuesConfig: {
    ADMIN: { description: "Creates users, sees every project, may attach the server's own AWS credentials." },
    USER: { description: "Works within the projects they are a member of." },
  },
});

registerEnumType(ProjectRole, {
  name: "ProjectRole",
  description: "A member's role in one project.",
  valuesConfig: {
    ADMIN: { description: "Manages members, backends and secrets, and provisions." },
    USER: { description: "Runs compute: launches and terminates instances." },
    VIEWER: { description: "Reads the project, its backends, instances, logs and artifacts." },
  },
});

registerEnumType(BackendType, {
  name: "BackendType",
  description: "The cloud a backend runs compute in.",
  valuesConfig: { AWS: { description: "An AWS account, reached with default credentials or an access key." } },
});

registerEnumType(BackendStatus, {
  name: "BackendStatus",
  description: "Where a backend is in its life cycle.",
  valuesConfig: {
    CONFIGURED: { description: "Validated and saved; not yet provisioned." },
    PROVISIONING: { description: "A provisioning run is preparing the AWS account." },
    READY: { description: "Provisioned: instances can be launched." },
    FAILED: { description: "The last run failed; see `lastRun` for the step and the reason, then retry." },
    TEARING_DOWN: { description: "A teardown run is removing what provisioning created." },
    DRIFTED: { description: "A resource provisioning made is missing or changed in AWS (see `reconciliationFindings`); provisionBackend repairs it." },
    CREDENTIALS_INVALID: { description: "AWS no longer accepts the backend's credentials (deactivated or deleted key); fix the key, or enter a new one with updateAwsBackend." },
  },
});

registerEnumType(AwsCredentialsMode, {
  name: "AwsCredentialsMode",
  description: "How the service authenticates with AWS for a backend.",
  valuesConfig: {
    DEFAULT: { description: "The server's own AWS identity (environment, shared profile or instance role); global admins only." },
    ACCESS_KEY: { description: "An IAM user's access key id and secret access key, sealed by the service." },
  },
});

registerEnumType(RunKind, {
  name: "RunKind",
  description: "What a provisioning run does.",
  valuesConfig: {
    PROVISION: { description: "Creates or reconciles the backend's AWS resources." },
    TEARDOWN: { description: "Removes the AWS resources that provisioning created." },
  },
});

registerEnumType(RunStatus, {
  name: "RunStatus",
  description: "The state of a provisioning run.",
  valuesConfig: {
    QUEUED: { description: "Waiting for a worker." },
    RUNNING: { description: "A worker is executing its steps." },
    SUCCEEDED: { description: "Every step finished." },
    FAILED: { description: "A step failed; `error` says why. Retrying continues from the failed step." },
  },
});

registerEnumType(StepStatus, {
  name: "StepStatus",
  description: "The state of one step of a run.",
  valuesConfig: {
    PENDING: { description: "Not started." },
    RUNNING: { description: "In progress." },
    DONE: { description: "Finished; `resourceId` names what it created or found." },
    SKIPPED: { description: "Nothing to do." },
    FAILED: { description: "Failed; `message` names the AWS action or parameter at fault." },
  },
});

registerEnumType(InstanceMarket, {
  name: "InstanceMarket",
  description: "How an instance is bought.",
  valuesConfig: {
    ON_DEMAND: { description: "On-demand capacity at the list price." },
    SPOT: { description: "One-time spot request; terminated on interruption." },
  },
});

registerEnumType(InstanceStatus, {
  name: "InstanceStatus",
  description: "An instance's state, as last seen in EC2.",
  valuesConfig: {
    PENDING: { description: "Requested; not yet running." },
    RUNNING: { description: "Running." },
    TERMINATING: { description: "Shutting down." },
    TERMINATED: { description: "Gone." },
    NO_CAPACITY: { description: "AWS had no capacity for the request; `statusReason` quotes AWS." },
    FAILED: { description: "The launch failed for another reason." },
  },
});

registerEnumType(ReconciliationFindingKind, {
  name: "ReconciliationFindingKind",
  description: "What a reconciliation pass found.",
  valuesConfig: {
    ORPHAN_INSTANCE: { description: "An instance (or open spot request) tagged for the backend runs in EC2 without a live record, past the grace period (ORPHAN_GRACE_SECONDS)." },
    INSTANCE_GONE: { description: "An instance live in the database is terminated in EC2, or no longer listed." },
    MAX_DURATION_REACHED: { description: "An instance ran past its maxDurationMinutes." },
    RESOURCE_MISSING: { description: "A resource provisioning created no longer exists (the backend becomes DRIFTED)." },
    RESOURCE_CHANGED: { description: "A resource provisioning created was changed (the backend becomes DRIFTED)." },
    CREDENTIALS_REJECTED: { description: "AWS rejects the backend's credentials (the backend becomes CREDENTIALS_INVALID); the message quotes AWS's reason." },
    CHECK_DENIED: { description: "A read the reconciler needs was denied; the message names the IAM action. Nothing else changes." },
  },
});

registerEnumType(ReconciliationAction, {
  name: "ReconciliationAction",
  description: "What the reconciler did about a finding.",
  valuesConfig: {
    TERMINATED: { description: "Terminated the instance (and cancelled its spot request)." },
    MARKED_TERMINATED: { description: "Marked the record TERMINATED, as EC2 reports it." },
    REPORTED: { description: "Reported it; a person has to act (for drift: provisionBackend)." },
    REPAIRED: { description: "A difference reported earlier is gone (repaired by provisionBackend, changed back, or credentials working again)." },
  },
});

export enum LogGroupKind {
  JOBS = "JOBS",
  RUNNERS = "RUNNERS",
}

registerEnumType(LogGroupKind, {
  name: "LogGroupKind",
  description: "Which of the backend's log groups.",
  valuesConfig: {
    JOBS: { description: "/dstack/jobs/<bucket>: what jobs print." },
    RUNNERS: { description: "/dstack/runners/<bucket>: the runner agents' own logs." },
  },
});

registerEnumType(UserErrorCode, {
  name: "UserErrorCode",
  description: "What kind of problem a `UserError` reports; stable, for programs to branch on.",
  valuesConfig: {
    INVALID_INPUT: { description: "A value breaks a rule; the message says which." },
    NAME_TAKEN: { description: "The name is already used; pick another." },
    NOT_FOUND: { description: "No such object, or not visible to you." },
    LAST_ADMIN: { description: "The change would leave the project without an ADMIN." },
    BACKEND_BUSY: { description: "The backend has an active run or live instances; wait, or finish them first." },
    AWS_CREDENTIALS_INVALID: { description: "AWS rejected the access key id or secret access key." },
    AWS_DEFAULT_CREDENTIALS_DISABLED: { description: "The server's default credentials are disabled, or not yours to use." },
    AWS_ACCESS_DENIED: { description: "An IAM permission is missing; the message names the action to grant." },
    REGION_INVALID: { description: "Not an AWS region code." },
    BUCKET_NOT_FOUND: { description: "No bucket of that name exists." },
    BUCKET_ACCESS_DENIED: { description: "The bucket exists but these credentials may not use it." },
    BUCKET_IN_OTHER_REGION: { description: "The bucket lives in another region than the backend's; the message names it." },
    SUBNET_NOT_FOUND: { description: "No subnet with that id is visible to these credentials." },
    SUBNET_NOT_IN_REGION: { description: "The subnet exists in another region than the backend's." },
    INSTANCE_TYPE_UNAVAILABLE: { description: "The instance type does not exist or is not offered in the region." },
    NO_CAPACITY: { description: "AWS has no capacity for the request right now." },
    AWS_UNAVAILABLE: { description: "AWS kept failing (throttling, 5xx, timeouts) after retries; try again later." },
    BUDGET_EXCEEDED: { description: "The launch would exceed a limit of the project (setProjectLimits); the message names the limit, the current figure and what the launch would add." },
  },
});

registerEnumType(AuditOutcome, {
  name: "AuditOutcome",
  description: "How an audited operation ended.",
  valuesConfig: {
    OK: { description: "It did what was asked." },
    USER_ERROR: { description: "It was refused with userErrors (or BAD_USER_INPUT); `codes` holds their codes." },
    DENIED: { description: "The caller was not allowed: UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED." },
    FAILED: { description: "It failed: `codes` holds the error code (OUTCOME_UNKNOWN: it started, and its outcome was never recorded)." },
  },
});

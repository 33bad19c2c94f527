// The provisioning steps in execution order; teardown runs them in reverse.
import type { ProvisioningStepDefinition } from "../step.js";
import { bucketLifecycleStep } from "./bucket-lifecycle.js";
import { iamPolicyStep } from "./iam-policy.js";
import { iamRoleStep } from "./iam-role.js";
import { instanceProfileStep } from "./instance-profile.js";
import { logGroupsStep } from "./log-groups.js";
import { securityGroupStep } from "./security-group.js";

export const PROVISIONING_STEPS: ProvisioningStepDefinition[] = [
  iamPolicyStep,
  iamRoleStep,
  instanceProfileStep,
  securityGroupStep,
  logGroupsStep,
  bucketLifecycleStep,
];

export { RESOURCE_KIND } from "./common.js";
export { ACTIONS_BEYOND_SEED, PROVISION_ACTIONS_BEYOND_SEED, TEARDOWN_ACTIONS_BEYOND_SEED } from "./permissions.js";
export { bucketLifecycleStep, iamPolicyStep, iamRoleStep, instanceProfileStep, logGroupsStep, securityGroupStep };

// IAM actions the steps need beyond the seed's policy (src/aws/iam-policy.ts), for the README's
// "Permissions" section, the least-privilege test's allow-list, and messages that name them all.

/** Per step: actions its teardown calls that the seed's policy does not grant (it grants no delete). */
export const TEARDOWN_ACTIONS_BEYOND_SEED: Readonly<Record<string, readonly string[]>> = {
  "bucket-lifecycle": [], // DeleteBucketLifecycle is s3:PutLifecycleConfiguration in IAM
  "log-groups": ["logs:DeleteLogGroup"],
  "security-group": ["ec2:DeleteSecurityGroup"],
  "instance-profile": ["iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
  "iam-role": ["iam:DetachRolePolicy", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteRole"],
  "iam-policy": ["iam:DeletePolicy", "iam:DetachRolePolicy"],
};

/**
 * Per step: actions provisioning calls beyond the seed's policy, only in a situation a fresh
 * provision never meets: removing SSH rules for CIDRs taken out of the configuration.
 */
export const PROVISION_ACTIONS_BEYOND_SEED: Readonly<Record<string, readonly string[]>> = {
  "security-group": ["ec2:RevokeSecurityGroupIngress"],
};

/** Every action beyond the seed's policy, sorted. */
export const ACTIONS_BEYOND_SEED: readonly string[] = [
  ...new Set([...Object.values(TEARDOWN_ACTIONS_BEYOND_SEED).flat(), ...Object.values(PROVISION_ACTIONS_BEYOND_SEED).flat()]),
].sort();

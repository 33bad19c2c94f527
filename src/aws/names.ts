// The names and tags of everything backend-hub creates in AWS, in one place. Names are
// deterministic (derived from the bucket, and the subnet for the security group), so a retried or
// resumed step finds what an earlier attempt created instead of creating it twice. Tags mark what
// is ours: `dstack_bucket` is the one that matters for safety (the seed's policy only lets the
// backend terminate instances and cancel spot requests carrying it).

export interface Tag {
  Key: string;
  Value: string;
}

/** `{bucket_name_under_score}` of the documented template: dashes become underscores. */
export function bucketNameUnderScore(bucketName: string): string {
  return bucketName.replaceAll("-", "_");
}

/** Prefix of the role (and instance profile) names: `dstack_role_<bucket_us>`. */
export const ROLE_PREFIX = "dstack_role_";
/** Prefix of the managed policy names: `dstack_policy_<bucket_us>`. */
export const POLICY_PREFIX = "dstack_policy_";
/** IAM's limit for role names (policy and instance-profile names allow 128). */
export const IAM_ROLE_NAME_MAX = 64;

/** `dstack_policy_<bucket_us>`: the managed policy instances get through their role. */
export function instancePolicyName(bucket: string): string {
  return `${POLICY_PREFIX}${bucketNameUnderScore(bucket)}`;
}

/** `dstack_role_<bucket_us>`: the role instances assume; the instance profile has the same name. */
export function instanceRoleName(bucket: string): string {
  return `${ROLE_PREFIX}${bucketNameUnderScore(bucket)}`;
}

export function instanceProfileName(bucket: string): string {
  return instanceRoleName(bucket);
}

/**
 * The role `dstack_role_<bucket_us>` must fit IAM's 64-character limit. Returns a message with the
 * numbers when it does not, else null.
 */
export function checkRoleNameLength(bucketName: string): string | null {
  const roleName = instanceRoleName(bucketName);
  if (roleName.length <= IAM_ROLE_NAME_MAX) return null;
  const maxBucket = IAM_ROLE_NAME_MAX - ROLE_PREFIX.length;
  return (
    `The IAM role name "${roleName}" derived from this bucket would be ${roleName.length} characters long, ` +
    `but IAM allows at most ${IAM_ROLE_NAME_MAX}; use a bucket name of at most ${maxBucket} characters ` +
    `(this one has ${bucketName.length}).`
  );
}

/**
 * `dstack_security_group_[<subnet_us>_]<bucket_us>`, as the dstack hub named it (runners.py
 * `_get_security_group_id`): the subnet id, with '-' replaced by '_', when the backend has one.
 */
export function securityGroupName(bucket: string, subnetId: string | null): string {
  const subnet = subnetId ? `${subnetId.replaceAll("-", "_")}_` : "";
  return `dstack_security_group_${subnet}${bucketNameUnderScore(bucket)}`;
}

/** `/dstack/jobs/<bucket>` and `/dstack/runners/<bucket>`. */
export function logGroupNames(bucket: string): [string, string] {
  return [`/dstack/jobs/${bucket}`, `/dstack/runners/${bucket}`];
}

/** The documented policy allows secrets under `/dstack/<bucket>/credentials/` and `/dstack/<bucket>/secrets/` only. */
export function credentialsSecretName(bucket: string, id: string): string {
  return `/dstack/${bucket}/credentials/${id}`;
}

export function projectSecretName(bucket: string, name: string): string {
  return `/dstack/${bucket}/secrets/${name}`;
}

export function policyArn(partition: string, accountId: string, bucket: string): string {
  return `arn:${partition}:iam::${accountId}:policy/${instancePolicyName(bucket)}`;
}

/** `arn:<partition>:iam::<account>:role/dstack_role_<bucket_us>`: the role instances of the backend run as. */
export function instanceRoleArn(partition: string, accountId: string, bucket: string): string {
  return `arn:${partition}:iam::${accountId}:role/${instanceRoleName(bucket)}`;
}

/** Partition and account of an ARN ("arn:aws:iam::123456789012:role/x" → aws, 123456789012). */
export function arnAccount(arn: string): { partition: string; accountId: string } {
  const parts = arn.split(":");
  return { partition: parts[1] || "aws", accountId: parts[4] ?? "" };
}

export const BUCKET_TAG = "dstack_bucket";
export const BACKEND_TAG = "dstack_backend";
/** Holds the launch's client token, so a retried launch can find the instance an earlier attempt created. */
export const CLIENT_TOKEN_TAG = "dstack_client_token";

/** A policy condition: only resources tagged dstack_bucket=<bucket> may be acted on. */
export function bucketTagCondition(bucket: string): Record<string, Record<string, string>> {
  return { StringEquals: { [`aws:ResourceTag/${BUCKET_TAG}`]: bucket } };
}

/** What every resource of a bucket carries (secrets, which exist before the backend row, carry only these). */
export function bucketTags(bucket: string): Record<string, string> {
  return { owner: "dstack", [BUCKET_TAG]: bucket };
}

/** What every resource provisioning creates for a backend carries: owner, dstack_bucket, dstack_backend. */
export function backendTags(input: { bucket: string; backendId: string }): Record<string, string> {
  return { ...bucketTags(input.bucket), [BACKEND_TAG]: input.backendId };
}

/** The backend's tags plus Name and dstack_project: on every instance, its volume and its spot request. */
export function instanceTags(input: { name: string; bucket: string; backendId: string; projectId: string }): Record<string, string> {
  return { Name: input.name, ...backendTags(input), dstack_project: input.projectId };
}

export function toTagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagRecord(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key) record[tag.Key] = tag.Value ?? "";
  return record;
}

/** The tags of `ours` that `tags` lacks or carries with another value. */
export function missingTags(tags: readonly { Key?: string; Value?: string }[] | undefined, ours: readonly Tag[]): Tag[] {
  return ours.filter((want) => !(tags ?? []).some((tag) => tag.Key === want.Key && tag.Value === want.Value));
}

/** True when `tags` carries every one of `ours` with the same value (owner, bucket, backend id). */
export function hasAllTags(tags: readonly { Key?: string; Value?: string }[] | undefined, ours: readonly Tag[]): boolean {
  return missingTags(tags, ours).length === 0;
}

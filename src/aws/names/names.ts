// Names and documents of everything provisioning creates. Names are deterministic (derived from
// the bucket, and the subnet for the security group), so a retried or resumed step finds what an
// earlier attempt created instead of creating it twice.
import { bucketNameUnderScore } from "../iam-policy.js";

export interface Tag {
  Key: string;
  Value: string;
}

/** `dstack_policy_<bucket_us>`: the managed policy instances get through their role. */
export function instancePolicyName(bucket: string): string {
  return `dstack_policy_${bucketNameUnderScore(bucket)}`;
}

/** `dstack_role_<bucket_us>`: the role instances assume; the instance profile has the same name. */
export function instanceRoleName(bucket: string): string {
  return `dstack_role_${bucketNameUnderScore(bucket)}`;
}

export function instanceProfileName(bucket: string): string {
  return instanceRoleName(bucket);
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

export function policyArn(partition: string, accountId: string, bucket: string): string {
  return `arn:${partition}:iam::${accountId}:policy/${instancePolicyName(bucket)}`;
}

/** Partition and account of an ARN ("arn:aws:iam::123456789012:role/x" → aws, 123456789012). */
export function arnAccount(arn: string): { partition: string; accountId: string } {
  const parts = arn.split(":");
  return { partition: parts[1] || "aws", accountId: parts[4] ?? "" };
}

/** True when `tags` carries every one of `ours` with the same value (owner, bucket, backend id). */
export function hasAllTags(tags: readonly { Key?: string; Value?: string }[] | undefined, ours: readonly Tag[]): boolean {
  return ours.every((want) => (tags ?? []).some((tag) => tag.Key === want.Key && tag.Value === want.Value));
}

/** The tags of `ours` that `tags` lacks or carries with another value. */
export function missingTags(tags: readonly { Key?: string; Value?: string }[] | undefined, ours: readonly Tag[]): Tag[] {
  return ours.filter((want) => !(tags ?? []).some((tag) => tag.Key === want.Key && tag.Value === want.Value));
}

/** What the role lets EC2 do: only EC2 instances may assume it. */
export function ec2TrustPolicyDocument(): object {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  };
}

/** True when a (URL-encoded, as GetRole returns it) trust policy lets ec2.amazonaws.com assume the role. */
export function trustsEc2(encodedDocument: string | undefined): boolean {
  if (!encodedDocument) return false;
  let document: { Statement?: unknown };
  try {
    document = JSON.parse(decodeURIComponent(encodedDocument)) as { Statement?: unknown };
  } catch {
    try {
      document = JSON.parse(encodedDocument) as { Statement?: unknown };
    } catch {
      return false;
    }
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  return statements.some((s) => {
    const statement = (s ?? {}) as { Effect?: string; Principal?: { Service?: unknown }; Action?: unknown };
    return (
      statement.Effect === "Allow" &&
      list(statement.Principal?.Service).some((service) => typeof service === "string" && service.startsWith("ec2.amazonaws.com")) &&
      list(statement.Action).some((action) => action === "sts:AssumeRole" || action === "sts:*" || action === "*")
    );
  });
}

/**
 * The policy instances of this backend run with. Narrower than the dstack hub's (`s3:*`, `logs:*`,
 * `ec2:*`): only what the runner does with the bucket, its log groups and secrets, plus
 * terminating or cancelling its own instances and spot requests (tagged `dstack_bucket=<bucket>`).
 * Log groups are matched as `<name>`, `<name>:*` (its streams) and `<name>/*` (per-repository job
 * groups), not `<name>*`, so a bucket "foo" does not reach the logs of a bucket "foo-bar".
 */
export function instancePolicyDocument(bucket: string, account: { partition: string; accountId: string }): object {
  const p = account.partition;
  const logGroups = logGroupNames(bucket).flatMap((group) => {
    const arn = `arn:${p}:logs:*:${account.accountId}:log-group:${group}`;
    return [arn, `${arn}:*`, `${arn}/*`];
  });
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Bucket",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
        Resource: [`arn:${p}:s3:::${bucket}`],
      },
      {
        Sid: "BucketObjects",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:GetObjectTagging",
          "s3:PutObjectTagging",
          "s3:DeleteObjectTagging",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: [`arn:${p}:s3:::${bucket}/*`],
      },
      {
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"],
        Resource: logGroups,
      },
      {
        Sid: "Secrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [`arn:${p}:secretsmanager:*:${account.accountId}:secret:/dstack/${bucket}/secrets/*`],
      },
      {
        Sid: "OwnInstances",
        Effect: "Allow",
        Action: ["ec2:TerminateInstances", "ec2:CancelSpotInstanceRequests"],
        Resource: "*",
        Condition: { StringEquals: { "aws:ResourceTag/dstack_bucket": bucket } },
      },
      {
        // Describe calls support no resource-level permissions; read-only.
        Sid: "DescribeOwnInstances",
        Effect: "Allow",
        Action: ["ec2:DescribeInstances", "ec2:DescribeSpotInstanceRequests"],
        Resource: "*",
      },
    ],
  };
}

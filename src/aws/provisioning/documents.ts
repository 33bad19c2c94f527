// The IAM policy documents provisioning writes: the role's trust policy (only EC2 may assume it),
// the check that an existing role trusts EC2, and the policy instances of a backend run with.
import { bucketTagCondition, logGroupNames } from "../names.js";

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
        Condition: bucketTagCondition(bucket),
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

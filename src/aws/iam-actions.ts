// Which IAM action (and, where it can be named without the account id, which resource) an SDK
// command needs. Error messages use it to tell the user exactly what to grant, and tests use it
// to check recorded calls against a policy.

export type AwsServiceName = "sts" | "s3" | "ec2" | "iam" | "secretsmanager" | "logs" | "pricing";

/** IAM's action prefix per service: the same as our service names today, kept explicit on purpose. */
const IAM_PREFIX: Record<AwsServiceName, string> = {
  sts: "sts",
  s3: "s3",
  ec2: "ec2",
  iam: "iam",
  secretsmanager: "secretsmanager",
  logs: "logs",
  pricing: "pricing",
};

// S3 is the service whose API operation names and IAM action names differ; everything else
// follows `<prefix>:<Operation>`.
const S3_ACTIONS: Record<string, string> = {
  ListBuckets: "s3:ListAllMyBuckets",
  HeadBucket: "s3:ListBucket",
  ListObjects: "s3:ListBucket",
  ListObjectsV2: "s3:ListBucket",
  ListObjectVersions: "s3:ListBucketVersions",
  HeadObject: "s3:GetObject",
  GetBucketLifecycleConfiguration: "s3:GetLifecycleConfiguration",
  PutBucketLifecycleConfiguration: "s3:PutLifecycleConfiguration",
  DeleteBucketLifecycle: "s3:PutLifecycleConfiguration",
  DeleteObjects: "s3:DeleteObject",
  CreateMultipartUpload: "s3:PutObject",
  UploadPart: "s3:PutObject",
  UploadPartCopy: "s3:PutObject",
  CompleteMultipartUpload: "s3:PutObject",
  CopyObject: "s3:PutObject",
  ListParts: "s3:ListMultipartUploadParts",
  ListMultipartUploads: "s3:ListBucketMultipartUploads",
  GetBucketPolicy: "s3:GetBucketPolicy",
  PutBucketPolicy: "s3:PutBucketPolicy",
};

/** "ListBucketsCommand" → "ListBuckets"; names without the suffix pass through. */
export function operationName(commandName: string): string {
  return commandName.endsWith("Command") ? commandName.slice(0, -"Command".length) : commandName;
}

/** The IAM action an SDK command needs, e.g. ("s3", "ListBucketsCommand") → "s3:ListAllMyBuckets". */
export function iamActionFor(service: AwsServiceName, commandName: string): string {
  const operation = operationName(commandName);
  if (service === "s3" && S3_ACTIONS[operation]) return S3_ACTIONS[operation];
  return `${IAM_PREFIX[service]}:${operation}`;
}

/**
 * The resource ARN a call acts on, when it can be built from the input alone. Only S3 ARNs carry
 * no account id and no region, so only they are derived; other services return undefined.
 */
export function resourceArnFor(service: AwsServiceName, commandName: string, input: Record<string, unknown>): string | undefined {
  if (service !== "s3") {
    const id = input.SecretId;
    return typeof id === "string" && id.startsWith("arn:") ? id : undefined;
  }
  if (operationName(commandName) === "ListBuckets") return "arn:aws:s3:::*";
  const bucket = input.Bucket;
  if (typeof bucket !== "string") return undefined;
  return typeof input.Key === "string" ? `arn:aws:s3:::${bucket}/${input.Key}` : `arn:aws:s3:::${bucket}`;
}

const TARGET_KEYS = [
  "Bucket",
  "SecretId",
  "Name",
  "RoleName",
  "PolicyName",
  "InstanceProfileName",
  "logGroupName",
  "logGroupNamePrefix",
] as const;

/** The call's main identifier (bucket, secret, role, log group, subnet ids…), for records and messages. */
export function targetOf(input: Record<string, unknown>): string | undefined {
  for (const key of TARGET_KEYS) {
    if (typeof input[key] === "string") return input[key] as string;
  }
  for (const key of ["SubnetIds", "InstanceIds", "InstanceTypes"] as const) {
    const value = input[key];
    if (Array.isArray(value) && value.length > 0) return value.join(",");
  }
  return undefined;
}

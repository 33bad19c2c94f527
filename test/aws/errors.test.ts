// Classification of SDK errors, on error objects shaped like the SDK's (name/Code, $metadata).
// The same classifier also runs against real moto errors in discovery.test.ts and fault-proxy.test.ts.
import { describe, expect, it } from "vitest";
import { classifyAwsError } from "../../src/aws/errors.js";
import { iamActionFor, resourceArnFor } from "../../src/aws/iam-actions.js";

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(`message for ${name}`), { name, $metadata: { httpStatusCode: status }, ...extra });
}

describe("iamActionFor", () => {
  it.each([
    ["s3", "ListBucketsCommand", "s3:ListAllMyBuckets"],
    ["s3", "HeadBucket", "s3:ListBucket"],
    ["s3", "ListObjectsV2Command", "s3:ListBucket"],
    ["s3", "GetBucketLocationCommand", "s3:GetBucketLocation"],
    ["s3", "PutBucketLifecycleConfigurationCommand", "s3:PutLifecycleConfiguration"],
    ["s3", "HeadObjectCommand", "s3:GetObject"],
    ["ec2", "DescribeSubnetsCommand", "ec2:DescribeSubnets"],
    ["sts", "GetCallerIdentityCommand", "sts:GetCallerIdentity"],
    ["secretsmanager", "CreateSecretCommand", "secretsmanager:CreateSecret"],
    ["logs", "DescribeLogGroupsCommand", "logs:DescribeLogGroups"],
    ["iam", "CreateRoleCommand", "iam:CreateRole"],
  ] as const)("%s %s → %s", (service, command, action) => {
    expect(iamActionFor(service, command)).toBe(action);
  });

  it("derives S3 ARNs from the input", () => {
    expect(resourceArnFor("s3", "ListBucketsCommand", {})).toBe("arn:aws:s3:::*");
    expect(resourceArnFor("s3", "GetBucketLocationCommand", { Bucket: "b" })).toBe("arn:aws:s3:::b");
    expect(resourceArnFor("s3", "PutObjectCommand", { Bucket: "b", Key: "k/1" })).toBe("arn:aws:s3:::b/k/1");
    expect(resourceArnFor("ec2", "DescribeSubnetsCommand", {})).toBeUndefined();
  });
});

describe("classifyAwsError", () => {
  it.each([
    ["AccessDenied", 403, "s3", "ListBuckets", "ACCESS_DENIED", "s3:ListAllMyBuckets"],
    ["AccessDeniedException", 400, "secretsmanager", "CreateSecret", "ACCESS_DENIED", "secretsmanager:CreateSecret"],
    ["UnauthorizedOperation", 403, "ec2", "DescribeSubnets", "ACCESS_DENIED", "ec2:DescribeSubnets"],
    ["AuthFailure.ServiceLinkedRoleCreationNotPermitted", 403, "ec2", "RunInstances", "ACCESS_DENIED", "ec2:RunInstances"],
    ["Unknown", 403, "s3", "HeadBucket", "ACCESS_DENIED", "s3:ListBucket"],
    ["SyntaxError", 403, "secretsmanager", "CreateSecret", "ACCESS_DENIED", "secretsmanager:CreateSecret"],
    ["InvalidClientTokenId", 403, "sts", "GetCallerIdentity", "INVALID_CREDENTIALS", "sts:GetCallerIdentity"],
    ["SignatureDoesNotMatch", 403, "sts", "GetCallerIdentity", "INVALID_CREDENTIALS", "sts:GetCallerIdentity"],
    ["InvalidAccessKeyId", 403, "s3", "ListBuckets", "INVALID_CREDENTIALS", "s3:ListAllMyBuckets"],
    ["UnrecognizedClientException", 400, "secretsmanager", "CreateSecret", "INVALID_CREDENTIALS", "secretsmanager:CreateSecret"],
    ["ExpiredToken", 403, "sts", "GetCallerIdentity", "INVALID_CREDENTIALS", "sts:GetCallerIdentity"],
    ["AuthFailure", 401, "ec2", "DescribeSubnets", "INVALID_CREDENTIALS", "ec2:DescribeSubnets"],
    ["NoSuchBucket", 404, "s3", "GetBucketLocation", "NOT_FOUND", "s3:GetBucketLocation"],
    ["NotFound", 404, "s3", "HeadBucket", "NOT_FOUND", "s3:ListBucket"],
    ["InvalidSubnetID.NotFound", 400, "ec2", "DescribeSubnets", "NOT_FOUND", "ec2:DescribeSubnets"],
    ["NoSuchEntity", 404, "iam", "GetRole", "NOT_FOUND", "iam:GetRole"],
    ["ResourceNotFoundException", 400, "secretsmanager", "GetSecretValue", "NOT_FOUND", "secretsmanager:GetSecretValue"],
    ["ThrottlingException", 400, "secretsmanager", "CreateSecret", "TRANSIENT", "secretsmanager:CreateSecret"],
    ["Throttling", 400, "sts", "GetCallerIdentity", "TRANSIENT", "sts:GetCallerIdentity"],
    ["RequestLimitExceeded", 503, "ec2", "DescribeSubnets", "TRANSIENT", "ec2:DescribeSubnets"],
    ["SlowDown", 503, "s3", "ListBuckets", "TRANSIENT", "s3:ListAllMyBuckets"],
    ["InternalError", 500, "s3", "ListBuckets", "TRANSIENT", "s3:ListAllMyBuckets"],
    ["SomethingNew", 502, "s3", "ListBuckets", "TRANSIENT", "s3:ListAllMyBuckets"],
    ["TimeoutError", undefined, "ec2", "DescribeSubnets", "TRANSIENT", "ec2:DescribeSubnets"],
    ["CredentialsProviderError", undefined, "sts", "GetCallerIdentity", "NO_CREDENTIALS", "sts:GetCallerIdentity"],
    ["ValidationError", 400, "iam", "CreateRole", "OTHER", "iam:CreateRole"],
  ] as const)("%s (HTTP %s) from %s %s is %s", (name, status, service, operation, kind, action) => {
    const failure = classifyAwsError(sdkError(name, status), service, operation);
    expect(failure.kind).toBe(kind);
    expect(failure.action).toBe(action);
    expect(failure.code).toBe(name);
  });

  it("reads Node network error codes", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(classifyAwsError(reset, "ec2", "DescribeSubnetsCommand")).toMatchObject({ kind: "TRANSIENT", code: "ECONNRESET" });
  });

  it("never copies the SDK's message, which may echo request details", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const error = sdkError("SignatureDoesNotMatch", 403, { message: `StringToSign ... ${secret}`, StringToSign: secret });
    const failure = classifyAwsError(error, "s3", "ListBuckets");
    expect(JSON.stringify(failure)).not.toContain(secret);
    expect(failure.message).toBe("The secret access key does not match the access key ID.");
  });

  it("names the missing action in access-denied messages", () => {
    const failure = classifyAwsError(sdkError("AccessDenied", 403), "s3", "ListBucketsCommand");
    expect(failure.message).toContain("s3:ListAllMyBuckets");
    expect(failure.operation).toBe("ListBuckets");
  });
});

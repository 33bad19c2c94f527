// The documented IAM policy for an AWS backend, and S3's rules for the bucket name that every
// name derived from the bucket (names.ts) depends on.
import { bucketNameUnderScore, bucketTagCondition, POLICY_PREFIX, ROLE_PREFIX } from "./names.js";

export interface IamPolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: IamPolicyStatement[];
}

/**
 * The user policy from the seed document (docs/reference/backends/aws.md), statement for statement,
 * with `{bucket_name}` and `{bucket_name_under_score}` filled in.
 */
export function awsIamPolicyDocument(bucketName: string): IamPolicyDocument {
  const b = bucketName;
  const bus = bucketNameUnderScore(bucketName);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
        Resource: ["arn:aws:s3:::*"],
      },
      {
        Effect: "Allow",
        Action: [
          "s3:PutObject",
          "s3:GetObject",
          "s3:DeleteObject",
          "s3:ListBucket",
          "s3:GetLifecycleConfiguration",
          "s3:PutLifecycleConfiguration",
          "s3:PutObjectTagging",
          "s3:GetObjectTagging",
          "s3:DeleteObjectTagging",
          "s3:GetBucketAcl",
        ],
        Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`],
      },
      {
        Effect: "Allow",
        Action: ["logs:DescribeLogGroups"],
        Resource: ["arn:aws:logs:*:*:log-group:*"],
      },
      {
        Effect: "Allow",
        Action: ["logs:FilterLogEvents", "logs:TagLogGroup", "logs:CreateLogGroup", "logs:CreateLogStream"],
        Resource: [`arn:aws:logs:*:*:log-group:/dstack/jobs/${b}*:*`, `arn:aws:logs:*:*:log-group:/dstack/runners/${b}*:*`],
      },
      {
        Effect: "Allow",
        Action: [
          "secretsmanager:UpdateSecret",
          "secretsmanager:GetSecretValue",
          "secretsmanager:CreateSecret",
          "secretsmanager:PutSecretValue",
          "secretsmanager:PutResourcePolicy",
          "secretsmanager:TagResource",
          "secretsmanager:DeleteSecret",
        ],
        Resource: [
          `arn:aws:secretsmanager:*:*:secret:/dstack/${b}/credentials/*`,
          `arn:aws:secretsmanager:*:*:secret:/dstack/${b}/secrets/*`,
        ],
      },
      {
        Effect: "Allow",
        Action: [
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeImages",
          "ec2:DescribeInstances",
          "ec2:DescribeSpotInstanceRequests",
          "ec2:DescribeSpotPriceHistory",
          "ec2:RunInstances",
          "ec2:CreateTags",
          "ec2:CreateSecurityGroup",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:AuthorizeSecurityGroupEgress",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: ["ec2:CancelSpotInstanceRequests", "ec2:TerminateInstances"],
        Resource: "*",
        Condition: bucketTagCondition(b),
      },
      {
        Effect: "Allow",
        Action: ["iam:GetRole", "iam:CreateRole", "iam:AttachRolePolicy", "iam:TagRole"],
        Resource: `arn:aws:iam::*:role/${ROLE_PREFIX}${bus}*`,
      },
      {
        Effect: "Allow",
        Action: ["iam:CreatePolicy", "iam:TagPolicy"],
        Resource: `arn:aws:iam::*:policy/${POLICY_PREFIX}${bus}*`,
      },
      {
        Effect: "Allow",
        Action: [
          "iam:GetInstanceProfile",
          "iam:CreateInstanceProfile",
          "iam:AddRoleToInstanceProfile",
          "iam:TagInstanceProfile",
          "iam:PassRole",
        ],
        Resource: [`arn:aws:iam::*:instance-profile/${ROLE_PREFIX}${bus}*`, `arn:aws:iam::*:role/${ROLE_PREFIX}${bus}*`],
      },
    ],
  };
}

/** S3's rules for general purpose bucket names, as human messages; empty when the name is valid. */
export function validateBucketName(name: string): string[] {
  if (name.startsWith("s3://")) return ['Enter the bucket name without the "s3://" prefix.'];
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) {
    problems.push(`A bucket name must be 3 to 63 characters long; this one has ${name.length}.`);
  }
  if (/[^a-z0-9.-]/.test(name)) {
    problems.push("A bucket name may contain only lowercase letters, digits, dots (.) and hyphens (-).");
  }
  if (name.length > 0 && (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))) {
    problems.push("A bucket name must begin and end with a lowercase letter or a digit.");
  }
  if (name.includes("..")) problems.push("A bucket name must not contain two adjacent dots.");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) {
    problems.push("A bucket name must not look like an IP address (for example 192.168.5.4).");
  }
  for (const prefix of ["xn--", "sthree-", "amzn-s3-demo-"]) {
    if (name.startsWith(prefix)) problems.push(`A bucket name must not start with "${prefix}" (reserved by AWS).`);
  }
  for (const suffix of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) {
    if (name.endsWith(suffix)) problems.push(`A bucket name must not end with "${suffix}" (reserved by AWS).`);
  }
  return problems;
}

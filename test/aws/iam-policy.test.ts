// The policy template must be the seed document's, statement for statement; bucket names must
// follow S3's rules, and the role derived from the bucket must fit IAM's limit.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { awsIamPolicyDocument, validateBucketName } from "../../src/aws/iam-policy.js";
import { bucketNameUnderScore, checkRoleNameLength, instanceRoleName } from "../../src/aws/names.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const seedPath = path.resolve(repoRoot, "../shared/seed/aws-backend.md");

/** The ```json block of the seed document with the placeholders filled in, parsed. */
function seedPolicy(bucket: string): unknown {
  const markdown = fs.readFileSync(seedPath, "utf8");
  const block = /```json\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error(`no json block in ${seedPath}`);
  const filled = block[1]
    .replaceAll("{bucket_name_under_score}", bucket.replaceAll("-", "_"))
    .replaceAll("{bucket_name}", bucket);
  return JSON.parse(filled);
}

describe.skipIf(!fs.existsSync(seedPath))("awsIamPolicyDocument", () => {
  it.each(["my-awesome-project", "plain", "dotted.bucket-name", "a-b-c-1"])("equals the seed's template for %s", (bucket) => {
    expect(awsIamPolicyDocument(bucket)).toEqual(seedPolicy(bucket));
  });

  it("fills the underscore form only into IAM names", () => {
    const json = JSON.stringify(awsIamPolicyDocument("my-awesome-project"));
    expect(json).toContain("role/dstack_role_my_awesome_project*");
    expect(json).toContain("policy/dstack_policy_my_awesome_project*");
    expect(json).toContain("arn:aws:s3:::my-awesome-project/*");
    expect(json).not.toContain("{bucket");
  });
});

describe("validateBucketName", () => {
  it.each(["abc", "my-awesome-project", "logs.example.com", "a".repeat(63), "123bucket"])("accepts %s", (name) => {
    expect(validateBucketName(name)).toEqual([]);
  });

  it.each([
    ["ab", /3 to 63 characters/],
    ["a".repeat(64), /3 to 63 characters.*64/],
    ["My-Bucket", /lowercase letters/],
    ["my_bucket", /lowercase letters/],
    ["-bucket", /begin and end/],
    ["bucket-", /begin and end/],
    ["my..bucket", /two adjacent dots/],
    ["192.168.5.4", /IP address/],
    ["xn--bucket", /"xn--"/],
    ["sthree-bucket", /"sthree-"/],
    ["amzn-s3-demo-bucket", /"amzn-s3-demo-"/],
    ["bucket-s3alias", /"-s3alias"/],
    ["bucket--ol-s3", /"--ol-s3"/],
    ["bucket.mrap", /"\.mrap"/],
    ["bucket--x-s3", /"--x-s3"/],
    ["bucket--table-s3", /"--table-s3"/],
    ["s3://bucket", /without the "s3:\/\/" prefix/],
  ])("rejects %s", (name, message) => {
    const problems = validateBucketName(name);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(message);
  });
});

describe("role name limit", () => {
  it("derives dstack_role_<bucket with underscores>", () => {
    expect(bucketNameUnderScore("my-awesome-project")).toBe("my_awesome_project");
    expect(instanceRoleName("my-awesome-project")).toBe("dstack_role_my_awesome_project");
  });

  it("allows a 52-character bucket (role name of exactly 64)", () => {
    expect(instanceRoleName("b".repeat(52))).toHaveLength(64);
    expect(checkRoleNameLength("b".repeat(52))).toBeNull();
  });

  it("rejects a 53-character bucket with the numbers", () => {
    const message = checkRoleNameLength("b".repeat(53));
    expect(message).toContain("65 characters");
    expect(message).toContain("at most 64");
    expect(message).toContain("at most 52 characters");
    expect(message).toContain("this one has 53");
  });
});

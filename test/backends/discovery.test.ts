// discoverAwsBackend, awsRegions and awsIamPolicy through the real HTTP server against moto:
// every wrong step of the AWS backend form gets its own error on the field it concerns.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import { createBucket, createIamUser, createSubnet, DUMMY_KEYS, policy } from "../support/moto-iam.js";
import { accessKey, ACCOUNT_ID, backendCount, CREATE, DISCOVER, IAM_POLICY, newKeyMaterial, newProject, REGIONS } from "./support.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SEED = path.resolve(REPO_ROOT, "../shared/seed/aws-backend.md");
const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);

const moto = useMoto();
const t = useServer({ ENCRYPTION_KEYS: `k1:${newKeyMaterial()}` }, { aws: moto });
let projectId: string;

const discover = async (input: object) => {
  const response = await t.admin.request(DISCOVER, { input });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data.discoverAwsBackend;
};
const codes = (errors: { code: string; field: string[] }[]) => errors.map((e) => [e.code, e.field]);

beforeAll(async () => {
  projectId = await newProject(t.admin, "discovery");
});

describe("credentials", () => {
  it("a valid access key: the identity, every bucket with its real region, and the chosen region's subnets", async () => {
    const user = await createIamUser(moto.endpoint, { userName: "alice", policy: ALLOW_ALL });
    await createBucket(moto.endpoint, "east-bucket", "us-east-1");
    await createBucket(moto.endpoint, "west-bucket", "eu-west-1");
    await createBucket(moto.endpoint, "tokyo-bucket", "ap-northeast-1");
    const subnet = await createSubnet(moto.endpoint, "eu-west-1", { cidr: "10.7.0.0/16", name: "public-a", public: true });
    await moto.setIamEnforcement(true);

    const result = await discover({ credentials: accessKey(user), region: "eu-west-1", bucket: "west-bucket", subnetId: subnet.subnetId });
    expect(result.userErrors).toEqual([]);
    expect(result.identity).toEqual({ accountId: ACCOUNT_ID, arn: user.arn });
    expect(result.buckets.map((b: any) => [b.name, b.region]).sort()).toEqual([
      ["east-bucket", "us-east-1"],
      ["tokyo-bucket", "ap-northeast-1"],
      ["west-bucket", "eu-west-1"],
    ]);
    expect(result.subnets.find((s: any) => s.id === subnet.subnetId)).toEqual({
      id: subnet.subnetId,
      vpcId: subnet.vpcId,
      availabilityZone: expect.stringMatching(/^eu-west-1[a-c]$/),
      cidrBlock: "10.7.0.0/24",
      name: "public-a",
      isDefaultForAz: false,
      mapsPublicIp: false,
      public: true,
    });
    // Only subnets of the chosen region.
    expect(result.subnets.every((s: any) => s.availabilityZone.startsWith("eu-west-1"))).toBe(true);
    expect(result.subnets.some((s: any) => s.isDefaultForAz)).toBe(true);
  });

  it("an unknown access key: AWS_CREDENTIALS_INVALID on both key fields, and nothing else is looked up", async () => {
    await createBucket(moto.endpoint, "some-bucket", "us-east-1");
    await moto.setIamEnforcement(true);
    const unknown = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const result = await discover({
      credentials: { mode: "ACCESS_KEY", accessKeyId: unknown, secretAccessKey: randomBytes(20).toString("hex") },
      region: "us-east-1",
      bucket: "some-bucket",
    });
    expect(codes(result.userErrors)).toEqual([
      ["AWS_CREDENTIALS_INVALID", ["input", "credentials", "accessKeyId"]],
      ["AWS_CREDENTIALS_INVALID", ["input", "credentials", "secretAccessKey"]],
    ]);
    expect(result.userErrors[0].message).toContain("does not recognise the access key ID");
    expect(result).toMatchObject({ identity: null, buckets: [], subnets: [] });
    // Regions need no credentials: the picker still works.
    expect(result.regions.length).toBeGreaterThan(10);
  });

  it("a wrong secret (IAM enforced): AWS_CREDENTIALS_INVALID on the secret field only", async () => {
    const user = await createIamUser(moto.endpoint, { userName: "bob", policy: ALLOW_ALL });
    await moto.setIamEnforcement(true);
    const result = await discover({
      credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: randomBytes(20).toString("hex") },
      region: "us-east-1",
    });
    expect(codes(result.userErrors)).toEqual([["AWS_CREDENTIALS_INVALID", ["input", "credentials", "secretAccessKey"]]]);
    expect(result.userErrors[0].message).toContain("secret access key does not match");
    expect(result.identity).toBeNull();

    // The same key with its real secret is fine: the error was about the secret alone.
    const right = await discover({ credentials: accessKey(user), region: "us-east-1" });
    expect(right.userErrors).toEqual([]);
    expect(right.identity.arn).toBe(user.arn);
  });

  it("empty key fields are input errors on each field", async () => {
    const result = await discover({ credentials: { mode: "ACCESS_KEY", accessKeyId: "", secretAccessKey: null } });
    expect(codes(result.userErrors)).toEqual([
      ["INVALID_INPUT", ["input", "credentials", "accessKeyId"]],
      ["INVALID_INPUT", ["input", "credentials", "secretAccessKey"]],
    ]);
  });
});

describe("region", () => {
  it("awsRegions and discovery list the same regions with human names", async () => {
    const regions = (await t.admin.ok(REGIONS)).awsRegions;
    expect(regions).toContainEqual({ code: "eu-west-1", name: "Europe (Ireland)" });
    expect(regions).toContainEqual({ code: "us-east-1", name: "US East (N. Virginia)" });
    expect(new Set(regions.map((r: any) => r.code)).size).toBe(regions.length);
    const result = await discover({});
    expect(result.regions).toEqual(regions);
    expect(result.userErrors).toEqual([]);
  });

  it("an unknown region: REGION_INVALID naming it, and the rest still comes back", async () => {
    await createBucket(moto.endpoint, "any-bucket", "us-east-1");
    const result = await discover({ credentials: accessKey(DUMMY_KEYS), region: "xx-nowhere-1" });
    expect(result.userErrors).toEqual([{ code: "REGION_INVALID", message: expect.stringContaining("xx-nowhere-1"), field: ["input", "region"] }]);
    expect(result.identity).not.toBeNull();
    expect(result.buckets.map((b: any) => b.name)).toEqual(["any-bucket"]);
  });
});

describe("bucket", () => {
  it("in another region: BUCKET_IN_OTHER_REGION, and the message names the bucket's region", async () => {
    await createBucket(moto.endpoint, "dublin-bucket", "eu-west-1");
    const result = await discover({ credentials: accessKey(DUMMY_KEYS), region: "us-east-1", bucket: "dublin-bucket" });
    expect(result.userErrors).toEqual([
      { code: "BUCKET_IN_OTHER_REGION", message: expect.stringContaining("is in eu-west-1, not in us-east-1"), field: ["input", "bucket"] },
    ]);
    expect(result.buckets).toContainEqual(expect.objectContaining({ name: "dublin-bucket", region: "eu-west-1" }));
    const same = await discover({ credentials: accessKey(DUMMY_KEYS), region: "eu-west-1", bucket: "dublin-bucket" });
    expect(same.userErrors).toEqual([]);
  });

  it("missing (BUCKET_NOT_FOUND) is told apart from forbidden (BUCKET_ACCESS_DENIED), for a user with the seed's policy", async () => {
    await createBucket(moto.endpoint, "own-bucket", "us-east-1");
    await createBucket(moto.endpoint, "someone-elses", "us-east-1");
    const document = (await t.admin.ok(IAM_POLICY, { bucketName: "own-bucket" })).awsIamPolicy.document;
    const user = await createIamUser(moto.endpoint, { userName: "dstack", policy: document });
    await moto.setIamEnforcement(true);
    const base = { credentials: accessKey(user), region: "us-east-1" };

    const own = await discover({ ...base, bucket: "own-bucket" });
    expect(own.userErrors).toEqual([]);

    const forbidden = await discover({ ...base, bucket: "someone-elses" });
    expect(forbidden.userErrors).toEqual([
      { code: "BUCKET_ACCESS_DENIED", message: expect.stringContaining("s3:ListBucket"), field: ["input", "bucket"] },
    ]);
    const missing = await discover({ ...base, bucket: "no-such-bucket" });
    expect(missing.userErrors).toEqual([
      { code: "BUCKET_NOT_FOUND", message: expect.stringContaining('"no-such-bucket" does not exist'), field: ["input", "bucket"] },
    ]);
  });

  it("a name S3 would refuse, and one whose IAM role name would pass 64 characters, are INVALID_INPUT on the bucket", async () => {
    const bad = await discover({ credentials: accessKey(DUMMY_KEYS), region: "us-east-1", bucket: "my_bucket" });
    expect(bad.userErrors).toEqual([
      { code: "INVALID_INPUT", message: expect.stringContaining("lowercase letters, digits"), field: ["input", "bucket"] },
    ]);
    const long = "b".repeat(53);
    await createBucket(moto.endpoint, long, "us-east-1");
    const tooLong = await discover({ credentials: accessKey(DUMMY_KEYS), region: "us-east-1", bucket: long });
    expect(tooLong.userErrors).toEqual([
      { code: "INVALID_INPUT", message: expect.stringMatching(/dstack_role_b{53}.*65 characters.*at most 64/), field: ["input", "bucket"] },
    ]);
  });
});

describe("access denied", () => {
  it("on ListBuckets: AWS_ACCESS_DENIED names s3:ListAllMyBuckets, and regions and subnets still come back", async () => {
    const user = await createIamUser(moto.endpoint, {
      userName: "ec2-only",
      policy: policy([{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "ec2:DescribeRouteTables"], Resource: "*" }]),
    });
    await moto.setIamEnforcement(true);
    const result = await discover({ credentials: accessKey(user), region: "us-east-1" });
    expect(result.userErrors).toEqual([
      { code: "AWS_ACCESS_DENIED", message: expect.stringContaining("s3:ListAllMyBuckets"), field: ["input", "bucket"] },
    ]);
    expect(result.identity.arn).toBe(user.arn);
    expect(result.regions).toEqual((await t.admin.ok(REGIONS)).awsRegions);
    expect(result.buckets).toEqual([]);
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.subnets.every((s: any) => s.availabilityZone.startsWith("us-east-1"))).toBe(true);
  });
});

describe("subnet", () => {
  it("an unknown subnet: SUBNET_NOT_FOUND", async () => {
    const result = await discover({ credentials: accessKey(DUMMY_KEYS), region: "us-east-1", subnetId: "subnet-0123456789abcdef0" });
    expect(result.userErrors).toEqual([
      { code: "SUBNET_NOT_FOUND", message: expect.stringContaining("subnet-0123456789abcdef0 does not exist in us-east-1"), field: ["input", "subnetId"] },
    ]);
    expect(result.subnets.length).toBeGreaterThan(0);
  });

  it("a subnet of another region: SUBNET_NOT_IN_REGION naming where it is", async () => {
    const { subnetId } = await createSubnet(moto.endpoint, "eu-west-1", { cidr: "10.9.0.0/16" });
    const result = await discover({ credentials: accessKey(DUMMY_KEYS), region: "us-east-1", subnetId });
    expect(result.userErrors).toEqual([
      { code: "SUBNET_NOT_IN_REGION", message: expect.stringContaining(`${subnetId} is in eu-west-1, not in us-east-1`), field: ["input", "subnetId"] },
    ]);
    const there = await discover({ credentials: accessKey(DUMMY_KEYS), region: "eu-west-1", subnetId });
    expect(there.userErrors).toEqual([]);
  });
});

describe("awsIamPolicy", () => {
  const seedExists = existsSync(SEED);

  /** The seed's JSON template with both placeholders filled in, as a user following it would. */
  function seedPolicy(bucketName: string): unknown {
    const markdown = readFileSync(SEED, "utf8");
    const block = /```json\n([\s\S]*?)```/.exec(markdown);
    expect(block, "the seed has a ```json block").not.toBeNull();
    const filled = block![1]
      .replaceAll("{bucket_name_under_score}", bucketName.replaceAll("-", "_"))
      .replaceAll("{bucket_name}", bucketName);
    expect(filled).not.toMatch(/\{bucket_name/);
    return JSON.parse(filled);
  }

  it.skipIf(!seedExists)(
    `for a dashed bucket name matches the seed's template statement for statement${seedExists ? "" : ` (skipped: ${SEED} is absent)`}`,
    async () => {
      const bucketName = "my-awesome-project";
      const expected = seedPolicy(bucketName);
      const result = (await t.admin.ok(IAM_POLICY, { bucketName })).awsIamPolicy;
      expect(result.bucketName).toBe(bucketName);
      expect(result.document).toEqual(expected);
      expect(JSON.parse(result.json)).toEqual(expected);
      // The underscore form is where the template wants it, and only there.
      expect(result.json).toContain("dstack_role_my_awesome_project*");
      expect(result.json).toContain("dstack_policy_my_awesome_project*");
      expect(result.json).toContain("arn:aws:s3:::my-awesome-project/*");
      expect(result.json).not.toContain("my_awesome_project/");
    },
  );

  it("refuses bucket names that break S3's rules with a clear BAD_USER_INPUT", async () => {
    const cases: [string, RegExp][] = [
      ["ab", /3 to 63 characters/],
      ["Upper-Case", /lowercase letters, digits/],
      ["under_score", /lowercase letters, digits/],
      ["-leading-dash", /begin and end/],
      ["two..dots", /two adjacent dots/],
      ["192.168.5.4", /IP address/],
      ["xn--punycode", /must not start with "xn--"/],
      ["s3://my-bucket", /without the "s3:\/\/" prefix/],
      ["c".repeat(64), /3 to 63 characters long; this one has 64/],
    ];
    for (const [bucketName, message] of cases) {
      const response = await t.admin.request(IAM_POLICY, { bucketName });
      expect(response.status, bucketName).toBe(200);
      expect(response.data ?? null, bucketName).toBeNull();
      expect(response.errors, bucketName).toEqual([
        expect.objectContaining({ message: expect.stringMatching(message), extensions: expect.objectContaining({ code: "BAD_USER_INPUT", argumentName: "bucketName" }) }),
      ]);
    }
  });

  it("refuses a name whose role name would pass IAM's 64 characters, saying so; 52 characters is the longest allowed", async () => {
    const tooLong = await t.admin.request(IAM_POLICY, { bucketName: "a".repeat(53) });
    expect(tooLong.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(tooLong.errors?.[0]?.message).toMatch(/role name "dstack_role_a{53}".*65 characters.*at most 64.*at most 52/);
    const longest = await t.admin.ok(IAM_POLICY, { bucketName: "a".repeat(52) });
    expect(longest.awsIamPolicy.json).toContain(`dstack_role_${"a".repeat(52)}*`);
  });

  it("createAwsBackend refuses such a bucket too, before anything is stored", async () => {
    const long = "d".repeat(53);
    await createBucket(moto.endpoint, long, "us-east-1");
    const result = await t.admin.ok(CREATE, { projectId, input: { region: "us-east-1", bucket: long, credentials: accessKey(DUMMY_KEYS) } });
    expect(result.createAwsBackend.backend).toBeNull();
    expect(result.createAwsBackend.userErrors).toEqual([
      { code: "INVALID_INPUT", message: expect.stringContaining("at most 64"), field: ["input", "bucket"] },
    ]);
    expect(await backendCount(t.databaseUrl)).toBe(0);
  });
});

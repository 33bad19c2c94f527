// Backend discovery against a real moto_server: identity, buckets with their real regions,
// subnets with public/private labels, and one user error per problem on the field it concerns.
// Permission cases use moto IAM users under enforcement, never SDK mocks.
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { beforeEach, describe, expect, it } from "vitest";
import type { AwsCredentialSource } from "../../src/aws/clients.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { AWS_REGIONS } from "../../src/aws/regions.js";
import { UserErrorCode } from "../../src/errors/codes.js";
import { AwsDiscoveryService } from "../../src/backends/discovery.service.js";
import { on, type ProxiedRequest } from "../support/fault-proxy.js";
import { useAwsSession, useDefaultCredentialChain, useFaultProxy, useMoto } from "../support/fixtures.js";
import { createBucket, createIamUser, createSubnet, policy, type MotoUser } from "../support/moto-iam.js";

const DUMMY: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
const keysOf = (user: MotoUser): AwsCredentialSource => ({
  mode: "ACCESS_KEY",
  accessKeyId: user.accessKeyId,
  secretAccessKey: user.secretAccessKey,
});
const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);

const moto = useMoto();
const { factory: aws, calls } = useAwsSession(moto);
let discovery: AwsDiscoveryService;
beforeEach(() => {
  discovery = new AwsDiscoveryService(aws);
});

describe("credentials", () => {
  it("without credentials: regions only, and no AWS call", async () => {
    const result = await discovery.discover({ region: "eu-west-1" });
    expect(result).toMatchObject({ identity: null, buckets: [], subnets: [], userErrors: [] });
    expect(result.regions).toHaveLength(AWS_REGIONS.length);
    expect(result.regions).toContainEqual({ code: "eu-west-1", name: "Europe (Ireland)" });
    expect(calls).toEqual([]);
  });

  it("a valid access key gives the identity, buckets with real regions, and subnets", async () => {
    const user = await createIamUser(moto.endpoint, { userName: "alice", policy: ALLOW_ALL });
    await createBucket(moto.endpoint, "east-bucket", "us-east-1");
    await createBucket(moto.endpoint, "west-bucket", "eu-west-1");
    const result = await discovery.discover({ credentials: keysOf(user), region: "us-east-1", bucket: "east-bucket" });
    expect(result.userErrors).toEqual([]);
    expect(result.identity).toEqual({ accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/alice" });
    expect(result.buckets.map(({ name, region }) => ({ name, region }))).toEqual([
      { name: "east-bucket", region: "us-east-1" },
      { name: "west-bucket", region: "eu-west-1" },
    ]);
    expect(result.buckets[0].createdAt).toBeInstanceOf(Date);
    // moto's default VPC: one default subnet per AZ, no internet gateway.
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.subnets[0]).toMatchObject({ isDefaultForAz: true, mapsPublicIp: true, public: false });
    expect(result.subnets[0].id).toMatch(/^subnet-/);
    expect(result.subnets[0].vpcId).toMatch(/^vpc-/);
    expect(result.subnets[0].availabilityZone).toMatch(/^us-east-1[a-f]$/);
  });

  it("an unknown access key: AWS_CREDENTIALS_INVALID on both key fields, nothing else", async () => {
    await moto.setIamEnforcement(true);
    const result = await discovery.discover({
      credentials: { mode: "ACCESS_KEY", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x".repeat(40) },
      region: "us-east-1",
      bucket: "some-bucket",
      subnetId: "subnet-12345678",
    });
    expect(result).toMatchObject({ identity: null, buckets: [], subnets: [] });
    expect(result.userErrors.map((e) => [e.code, e.field])).toEqual([
      [UserErrorCode.AWS_CREDENTIALS_INVALID, ["input", "credentials", "accessKeyId"]],
      [UserErrorCode.AWS_CREDENTIALS_INVALID, ["input", "credentials", "secretAccessKey"]],
    ]);
    expect(result.userErrors[0].message).toContain("InvalidClientTokenId");
  });

  it("a wrong secret: AWS_CREDENTIALS_INVALID on the secret, which never appears in the answer", async () => {
    const user = await createIamUser(moto.endpoint, { userName: "bob", policy: ALLOW_ALL });
    await moto.setIamEnforcement(true);
    const wrongSecret = `${user.secretAccessKey.slice(0, -4)}ABCD`;
    const result = await discovery.discover({
      credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: wrongSecret },
      region: "us-east-1",
    });
    expect(result.identity).toBeNull();
    expect(result.userErrors).toEqual([
      {
        code: UserErrorCode.AWS_CREDENTIALS_INVALID,
        message: expect.stringContaining("secret access key does not match"),
        field: ["input", "credentials", "secretAccessKey"],
      },
    ]);
    expect(JSON.stringify(result)).not.toContain(wrongSecret);
    expect(JSON.stringify(result)).not.toContain(user.secretAccessKey);
  });

  it("empty key fields are input errors, without calling AWS", async () => {
    const result = await discovery.discover({ credentials: { mode: "ACCESS_KEY", accessKeyId: "", secretAccessKey: "" } });
    expect(result.userErrors.map((e) => [e.code, e.field?.at(-1)])).toEqual([
      [UserErrorCode.INVALID_INPUT, "accessKeyId"],
      [UserErrorCode.INVALID_INPUT, "secretAccessKey"],
    ]);
    expect(calls).toEqual([]);
  });

  describe("DEFAULT credentials (the server's chain)", () => {
    // No keys, profile files or instance metadata: the chain can only find the env vars set below.
    useDefaultCredentialChain("each");

    it("uses the environment's key", async () => {
      const user = await createIamUser(moto.endpoint, { userName: "server", policy: ALLOW_ALL });
      process.env.AWS_ACCESS_KEY_ID = user.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = user.secretAccessKey;
      const result = await discovery.discover({ credentials: { mode: "DEFAULT" } });
      expect(result.identity?.arn).toBe(user.arn);
      expect(result.userErrors).toEqual([]);
    });

    it("with nothing in the chain: AWS_CREDENTIALS_INVALID on the credentials field", async () => {
      const result = await discovery.discover({ credentials: { mode: "DEFAULT" }, region: "us-east-1" });
      expect(result.identity).toBeNull();
      expect(result.userErrors).toEqual([
        { code: UserErrorCode.AWS_CREDENTIALS_INVALID, message: expect.stringContaining("default credential chain"), field: ["input", "credentials"] },
      ]);
    });
  });
});

describe("region", () => {
  it("an unknown region: REGION_INVALID, and the rest still comes back", async () => {
    await createBucket(moto.endpoint, "any-bucket", "us-east-1");
    const result = await discovery.discover({ credentials: DUMMY, region: "xx-nowhere-1", subnetId: "subnet-12345678" });
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.REGION_INVALID, message: expect.stringContaining("xx-nowhere-1"), field: ["input", "region"] },
    ]);
    expect(result.identity).not.toBeNull();
    expect(result.buckets.map((b) => b.name)).toEqual(["any-bucket"]);
    expect(result.subnets).toEqual([]);
  });
});

describe("bucket", () => {
  it("in another region: BUCKET_IN_OTHER_REGION names the bucket's region", async () => {
    await createBucket(moto.endpoint, "dublin-bucket", "eu-west-1");
    const result = await discovery.discover({ credentials: DUMMY, region: "us-east-1", bucket: "dublin-bucket" });
    expect(result.userErrors).toEqual([
      {
        code: UserErrorCode.BUCKET_IN_OTHER_REGION,
        message: expect.stringContaining("is in eu-west-1, not in us-east-1"),
        field: ["input", "bucket"],
      },
    ]);
    const same = await discovery.discover({ credentials: DUMMY, region: "eu-west-1", bucket: "dublin-bucket" });
    expect(same.userErrors).toEqual([]);
  });

  it("missing vs forbidden, for a user with the documented policy (IAM enforced)", async () => {
    await createBucket(moto.endpoint, "own-bucket", "us-east-1");
    await createBucket(moto.endpoint, "someone-elses", "us-east-1");
    const user = await createIamUser(moto.endpoint, { userName: "dstack", policy: awsIamPolicyDocument("own-bucket") });
    await moto.setIamEnforcement(true);
    const base = { credentials: keysOf(user), region: "us-east-1" };

    const own = await discovery.discover({ ...base, bucket: "own-bucket" });
    expect(own.userErrors.filter((e) => e.field?.[1] === "bucket")).toEqual([]);
    expect(own.buckets.map((b) => [b.name, b.region])).toEqual([
      ["own-bucket", "us-east-1"],
      ["someone-elses", "us-east-1"],
    ]);

    const forbidden = await discovery.discover({ ...base, bucket: "someone-elses" });
    expect(forbidden.userErrors.filter((e) => e.field?.[1] === "bucket")).toEqual([
      { code: UserErrorCode.BUCKET_ACCESS_DENIED, message: expect.stringContaining("s3:ListBucket"), field: ["input", "bucket"] },
    ]);

    const missing = await discovery.discover({ ...base, bucket: "no-such-bucket" });
    expect(missing.userErrors.filter((e) => e.field?.[1] === "bucket")).toEqual([
      { code: UserErrorCode.BUCKET_NOT_FOUND, message: 'Bucket "no-such-bucket" does not exist.', field: ["input", "bucket"] },
    ]);
  });

  it("an invalid name is an input error and is not looked up", async () => {
    const result = await discovery.discover({ credentials: DUMMY, bucket: "bad_bucket" });
    expect(result.userErrors.map((e) => e.code)).toEqual([UserErrorCode.INVALID_INPUT]);
    expect(calls.map((c) => c.operation)).not.toContain("ListObjectsV2");
  });

  it("a name too long for the derived IAM role is reported with the numbers", async () => {
    const long = "b".repeat(53);
    await createBucket(moto.endpoint, long, "us-east-1");
    const result = await discovery.discover({ credentials: DUMMY, region: "us-east-1", bucket: long });
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.INVALID_INPUT, message: expect.stringMatching(/65 characters.*at most 64/), field: ["input", "bucket"] },
    ]);
  });
});

describe("access denied", () => {
  it("on ListBuckets: names s3:ListAllMyBuckets, and regions, identity and subnets still come back", async () => {
    const user = await createIamUser(moto.endpoint, {
      userName: "ec2-only",
      policy: policy([{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "ec2:DescribeRouteTables"], Resource: "*" }]),
    });
    await moto.setIamEnforcement(true);
    const result = await discovery.discover({ credentials: keysOf(user), region: "us-east-1" });
    expect(result.userErrors).toEqual([
      {
        code: UserErrorCode.AWS_ACCESS_DENIED,
        message: expect.stringContaining("not allowed to perform s3:ListAllMyBuckets"),
        field: ["input", "bucket"],
      },
    ]);
    expect(result.identity?.arn).toBe(user.arn);
    expect(result.regions).toHaveLength(AWS_REGIONS.length);
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.subnets.every((s) => s.public === false)).toBe(true);
  });

  it("on DescribeRouteTables (not in the documented policy): subnets come back with public = null", async () => {
    const user = await createIamUser(moto.endpoint, {
      userName: "no-routes",
      policy: policy([{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "s3:ListAllMyBuckets"], Resource: "*" }]),
    });
    await moto.setIamEnforcement(true);
    const result = await discovery.discover({ credentials: keysOf(user), region: "us-east-1" });
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.subnets.every((s) => s.public === null)).toBe(true);
    // Not an error: the documented policy lacks the action, and an error would block every backend.
    expect(result.userErrors).toEqual([]);
  });

  it("on DescribeSubnets: names ec2:DescribeSubnets on the subnet field", async () => {
    const user = await createIamUser(moto.endpoint, {
      userName: "s3-only",
      policy: policy([{ Effect: "Allow", Action: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], Resource: "*" }]),
    });
    await moto.setIamEnforcement(true);
    const result = await discovery.discover({ credentials: keysOf(user), region: "eu-west-1", subnetId: "subnet-12345678" });
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.AWS_ACCESS_DENIED, message: expect.stringContaining("ec2:DescribeSubnets"), field: ["input", "subnetId"] },
    ]);
    expect(result.identity).not.toBeNull();
  });

  it("with the documented policy discovery reports no problem, and every call it makes is allowed (DescribeRouteTables aside)", async () => {
    await createBucket(moto.endpoint, "own-bucket", "us-east-1");
    const document = awsIamPolicyDocument("own-bucket");
    const user = await createIamUser(moto.endpoint, { userName: "dstack", policy: document });
    await moto.setIamEnforcement(true);
    const result = await discovery.discover({ credentials: keysOf(user), region: "us-east-1", bucket: "own-bucket" });
    expect(result.userErrors).toEqual([]);

    // s3:ListAllMyBuckets has no resource type: the simulator wants Resource "*" and so rejects the
    // documented arn:aws:s3:::* (which AWS accepts). moto, enforcing, just allowed it: the buckets came back.
    expect(result.buckets.map((b) => b.name)).toEqual(["own-bucket"]);
    const verdicts = new Map<string, string>();
    for (const call of calls.filter((c) => c.action !== "s3:ListAllMyBuckets")) {
      const simulation = await runSimulation(
        {
          request: {
            principal: user.arn,
            action: call.action,
            resource: { resource: call.resource ?? "*", accountId: "123456789012" },
            contextVariables: {},
          },
          identityPolicies: [{ name: "documented", policy: document }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      verdicts.set(call.action, simulation.resultType === "error" ? "error" : simulation.overallResult);
    }
    expect(Object.fromEntries(verdicts)).toEqual({
      "sts:GetCallerIdentity": "Allowed",
      "s3:GetBucketLocation": "Allowed",
      "s3:ListBucket": "Allowed",
      "ec2:DescribeSubnets": "Allowed",
      "ec2:DescribeRouteTables": "ImplicitlyDenied",
    });
  });
});

describe("subnet", () => {
  it("labels public and private subnets and reads the Name tag", async () => {
    const pub = await createSubnet(moto.endpoint, "us-west-2", { cidr: "10.1.0.0/16", name: "public-a", public: true });
    const priv = await createSubnet(moto.endpoint, "us-west-2", { cidr: "10.2.0.0/16", name: "private-a" });
    const result = await discovery.discover({ credentials: DUMMY, region: "us-west-2", subnetId: pub.subnetId });
    expect(result.userErrors).toEqual([]);
    expect(result.subnets.find((s) => s.id === pub.subnetId)).toMatchObject({
      vpcId: pub.vpcId,
      name: "public-a",
      cidrBlock: "10.1.0.0/24",
      isDefaultForAz: false,
      public: true,
    });
    expect(result.subnets.find((s) => s.id === priv.subnetId)).toMatchObject({ name: "private-a", public: false });
  });

  it("an unknown subnet: SUBNET_NOT_FOUND", async () => {
    const result = await discovery.discover({ credentials: DUMMY, region: "us-east-1", subnetId: "subnet-0123456789abcdef0" });
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.SUBNET_NOT_FOUND, message: "Subnet subnet-0123456789abcdef0 does not exist in us-east-1.", field: ["input", "subnetId"] },
    ]);
    const malformed = await discovery.discover({ credentials: DUMMY, region: "us-east-1", subnetId: "vpc-123" });
    expect(malformed.userErrors).toEqual([
      { code: UserErrorCode.SUBNET_NOT_FOUND, message: expect.stringContaining("is not a subnet ID"), field: ["input", "subnetId"] },
    ]);
  });

  it("a subnet of another region: SUBNET_NOT_IN_REGION names its region", async () => {
    const { subnetId } = await createSubnet(moto.endpoint, "eu-west-1", { cidr: "10.9.0.0/16" });
    const result = await discovery.discover({ credentials: DUMMY, region: "us-east-1", subnetId });
    expect(result.userErrors).toEqual([
      {
        code: UserErrorCode.SUBNET_NOT_IN_REGION,
        message: `Subnet ${subnetId} is in eu-west-1, not in us-east-1. Choose a subnet in us-east-1, or region eu-west-1.`,
        field: ["input", "subnetId"],
      },
    ]);
    // The other regions were asked in parallel, each once.
    const lookups = calls.filter((c) => c.operation === "DescribeSubnets" && c.target === subnetId);
    expect(new Set(lookups.map((c) => c.region)).size).toBe(lookups.length);
    expect(lookups.map((c) => c.region)).toContain("eu-west-1");
  });
});

describe("faults and parallelism (through the fault proxy)", () => {
  const proxy = useFaultProxy(moto);
  const { factory: viaProxy } = useAwsSession(proxy);
  const { factory: viaProxyOnce } = useAwsSession(proxy, { maxAttempts: 1 });

  it("calls run in parallel: with 100 ms added to every call, discovery takes about two rounds", async () => {
    await createBucket(moto.endpoint, "chosen-bucket", "us-east-1");
    for (const name of ["extra-one", "extra-two", "extra-three"]) await createBucket(moto.endpoint, name, "eu-west-1");
    const { subnetId } = await createSubnet(moto.endpoint, "us-east-1", { cidr: "10.3.0.0/16" });
    const input = { credentials: DUMMY, region: "us-east-1", bucket: "chosen-bucket", subnetId };
    await discovery.discover(input); // warm moto up (its first EC2 call in a region builds the default VPC)

    proxy.addRule({ match: on.any(), fault: { kind: "latency", ms: 100 } });
    const result = await new AwsDiscoveryService(viaProxy).discover(input);
    expect(result.userErrors).toEqual([]);

    const requests = proxy.requests;
    // Round 1: GetCallerIdentity, ListBuckets, DescribeSubnets, DescribeRouteTables, and for the chosen
    // bucket GetBucketLocation + ListObjectsV2. Round 2: GetBucketLocation for each of the 4 listed buckets.
    expect(requests).toHaveLength(10);
    const listBuckets = requests.find((r) => r.action === "ListBuckets")!;
    const secondRound = requests.filter((r) => r.startedAt >= listBuckets.endedAt!);
    const firstRound = requests.filter((r) => !secondRound.includes(r));
    expect(secondRound.map((r) => r.action)).toEqual(Array(4).fill("GetBucketLocation"));
    expect(firstRound.map((r) => r.action).sort()).toEqual(
      ["DescribeRouteTables", "DescribeSubnets", "GetBucketLocation", "GetCallerIdentity", "ListBuckets", "ListObjectsV2"].sort(),
    );
    // Within each round, every call started before any call of that round finished.
    const overlapped = (round: ProxiedRequest[]) => Math.max(...round.map((r) => r.startedAt)) < Math.min(...round.map((r) => r.endedAt!));
    expect(overlapped(firstRound)).toBe(true);
    expect(overlapped(secondRound)).toBe(true);
    // Wall-clock latency (elapsed / 100 ms = rounds) is reported by `npm run bench`, not asserted here.
  });

  it("STS failing does not hide the rest: AWS_UNAVAILABLE on the credentials, buckets and subnets still listed", async () => {
    await createBucket(moto.endpoint, "a-bucket", "us-east-1");
    proxy.addRule({ match: on.service("sts"), fault: { kind: "serverError" } });
    const result = await new AwsDiscoveryService(viaProxyOnce).discover({ credentials: DUMMY, region: "us-east-1" });
    expect(result.identity).toBeNull();
    expect(result.buckets.map((b) => b.name)).toEqual(["a-bucket"]);
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.AWS_UNAVAILABLE, message: expect.stringContaining("GetCallerIdentity"), field: ["input", "credentials"] },
    ]);
  });

  it("EC2 refusing valid keys in one region (an opt-in region not enabled) is REGION_INVALID", async () => {
    // What EC2 answers in a region the account has not enabled.
    const authFailure = `<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>r</RequestID></Response>`;
    proxy.addRule({ match: (r) => r.service === "ec2", fault: { kind: "respond", status: 401, headers: { "content-type": "text/xml" }, body: authFailure } });
    const result = await new AwsDiscoveryService(viaProxy).discover({ credentials: DUMMY, region: "af-south-1" });
    expect(result.identity).not.toBeNull();
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.REGION_INVALID, message: expect.stringContaining("not enabled for this account"), field: ["input", "region"] },
    ]);
  });

  it("a throttled call is retried; a failing one becomes AWS_UNAVAILABLE on its field while the rest comes back", async () => {
    await createBucket(moto.endpoint, "a-bucket", "us-east-1");
    proxy.addRule({ match: on.action("DescribeSubnets"), fault: { kind: "throttle" }, times: 1 });
    proxy.addRule({ match: on.action("ListBuckets"), fault: { kind: "serverError" } });
    const result = await new AwsDiscoveryService(viaProxy).discover({ credentials: DUMMY, region: "us-east-1" });
    expect(result.identity).not.toBeNull();
    expect(result.subnets.length).toBeGreaterThan(0);
    expect(result.buckets).toEqual([]);
    expect(result.userErrors).toEqual([
      { code: UserErrorCode.AWS_UNAVAILABLE, message: expect.stringContaining("ListBuckets"), field: ["input", "bucket"] },
    ]);
    expect(proxy.requests.filter((r) => r.action === "ListBuckets")).toHaveLength(3);
    expect(proxy.requests.filter((r) => r.action === "DescribeSubnets").map((r) => r.fault)).toEqual(["throttle", null]);
  });
});

// The moto harness and the fault proxy themselves, through real SDK clients from our factory:
// requests are recorded with service/region/action, and injected faults reach the SDK in the
// shape AWS would send them (so the SDK's retry logic and our classifier react as in production).
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { GetBucketLocationCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { createAwsClientFactory, type AwsCredentialSource } from "../../src/aws/clients.js";
import { attempt } from "../../src/aws/errors.js";
import { startFaultProxy, on } from "../support/fault-proxy.js";
import { useAwsSession, useFaultProxy, useMoto } from "../support/fixtures.js";
import { startMoto } from "../support/moto.js";
import { createBucket, createIamUser, policy } from "../support/moto-iam.js";

const creds: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
const moto = useMoto();
const proxy = useFaultProxy(moto);
const { factory: aws } = useAwsSession(proxy);

describe("moto harness", () => {
  it("serves all services on one endpoint and toggles IAM enforcement", async () => {
    const sts = await aws.client("sts", "us-east-1", creds);
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe("123456789012");
    await moto.setIamEnforcement(true);
    const denied = await attempt("sts", "GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
    expect(denied.ok ? null : denied.error.code).toBe("InvalidClientTokenId");
    await moto.reset(); // also turns enforcement off
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe("123456789012");
  });

  it("is one server per worker", async () => {
    // `moto` is the fixture's stand-in for the worker's server: the same server has the same address.
    expect((await startMoto()).endpoint).toBe(moto.endpoint);
  });
});

describe("fault proxy", () => {
  it("records service, region and action of every protocol", async () => {
    await createBucket(moto.endpoint, "rec-bucket", "eu-west-1");
    await (await aws.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}));
    await (await aws.client("s3", "us-east-1", creds)).send(new ListBucketsCommand({}));
    await (await aws.client("s3", "eu-west-1", creds)).send(new GetBucketLocationCommand({ Bucket: "rec-bucket" }));
    await (await aws.client("ec2", "eu-central-1", creds)).send(new DescribeSubnetsCommand({}));
    await (await aws.client("secretsmanager", "us-west-2", creds)).send(new CreateSecretCommand({ Name: "n", SecretString: "v" }));
    expect(proxy.requests.map(({ service, region, action }) => ({ service, region, action }))).toEqual([
      { service: "sts", region: "us-east-1", action: "GetCallerIdentity" },
      { service: "s3", region: "us-east-1", action: "ListBuckets" },
      { service: "s3", region: "eu-west-1", action: "GetBucketLocation" },
      { service: "ec2", region: "eu-central-1", action: "DescribeSubnets" },
      { service: "secretsmanager", region: "us-west-2", action: "CreateSecret" },
    ]);
    expect(proxy.requests[2].bucket).toBe("rec-bucket");
    expect(proxy.requests.every((r) => r.status === 200 && r.endedAt !== null)).toBe(true);
  });

  it.each([
    ["sts", "GetCallerIdentity", () => new GetCallerIdentityCommand({})],
    ["s3", "ListBuckets", () => new ListBucketsCommand({})],
    ["ec2", "DescribeSubnets", () => new DescribeSubnetsCommand({})],
    ["secretsmanager", "CreateSecret", () => new CreateSecretCommand({ Name: "s", SecretString: "v" })],
  ] as const)("%s: throttled once, then the SDK's retry succeeds", async (service, action, command) => {
    proxy.addRule({ match: on.action(action), fault: { kind: "throttle" }, times: 1 });
    const client = await aws.client(service, "us-east-1", creds) as { send(c: unknown): Promise<{ $metadata: { attempts?: number } }> };
    const output = await client.send(command());
    expect(output.$metadata.attempts).toBe(2);
    expect(proxy.requests.map((r) => [r.action, r.fault, r.status])).toEqual([
      [action, "throttle", service === "s3" || service === "ec2" ? 503 : 400],
      [action, null, 200],
    ]);
  });

  it("keeps failing with 500 until the SDK gives up: TRANSIENT after maxAttempts", async () => {
    proxy.addRule({ match: on.service("sts"), fault: { kind: "serverError" } });
    const sts = await aws.client("sts", "us-east-1", creds);
    const result = await attempt("sts", "GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
    expect(result.ok ? null : result.error).toMatchObject({ kind: "TRANSIENT", code: "InternalFailure", httpStatus: 500 });
    expect(proxy.requests).toHaveLength(3);
  });

  it("denies a named action in each protocol's shape", async () => {
    proxy.addRule({ match: on.action("DescribeSubnets"), fault: { kind: "accessDenied" } });
    proxy.addRule({ match: on.action("CreateSecret"), fault: { kind: "accessDenied" } });
    proxy.addRule({ match: on.action("ListBuckets"), fault: { kind: "accessDenied" } });
    const ec2 = await aws.client("ec2", "us-east-1", creds);
    const subnets = await attempt("ec2", "DescribeSubnets", () => ec2.send(new DescribeSubnetsCommand({})));
    expect(subnets.ok ? null : subnets.error).toMatchObject({ kind: "ACCESS_DENIED", code: "UnauthorizedOperation", action: "ec2:DescribeSubnets" });
    const sm = await aws.client("secretsmanager", "us-east-1", creds);
    const secret = await attempt("secretsmanager", "CreateSecret", () => sm.send(new CreateSecretCommand({ Name: "a", SecretString: "b" })));
    expect(secret.ok ? null : secret.error).toMatchObject({ kind: "ACCESS_DENIED", code: "AccessDeniedException" });
    const s3 = await aws.client("s3", "us-east-1", creds);
    const buckets = await attempt("s3", "ListBuckets", () => s3.send(new ListBucketsCommand({})));
    expect(buckets.ok ? null : buckets.error).toMatchObject({ kind: "ACCESS_DENIED", action: "s3:ListAllMyBuckets" });
    // The rules only touch their action: STS still works.
    await (await aws.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}));
  });

  it("resets connections: TRANSIENT, retried by the SDK", async () => {
    proxy.addRule({ match: on.any(), fault: { kind: "reset" }, times: 1 });
    const sts = await aws.client("sts", "us-east-1", creds);
    const output = await sts.send(new GetCallerIdentityCommand({}));
    expect(output.$metadata.attempts).toBe(2);

    proxy.addRule({ match: on.any(), fault: { kind: "reset" } });
    const single = createAwsClientFactory({ endpoint: proxy.endpoint, maxAttempts: 1 });
    const failed = await attempt("sts", "GetCallerIdentity", async () => (await single.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({})));
    expect(failed.ok ? null : failed.error.kind).toBe("TRANSIENT");
    single.destroy();
  });

  it("holds requests open: the factory's request timeout ends them", async () => {
    proxy.addRule({ match: on.any(), fault: { kind: "timeout" } });
    const impatient = createAwsClientFactory({ endpoint: proxy.endpoint, maxAttempts: 1, requestTimeoutMs: 300 });
    const started = performance.now();
    const result = await attempt("sts", "GetCallerIdentity", async () => (await impatient.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({})));
    expect(result.ok ? null : result.error).toMatchObject({ kind: "TRANSIENT", code: "TimeoutError" });
    // Ended by the 300 ms request timeout, not by the default 10 s one (loose bound: machines under load are slow).
    expect(performance.now() - started).toBeLessThan(6000);
    impatient.destroy();
  });

  it("adds latency to every call", async () => {
    proxy.addRule({ match: on.any(), fault: { kind: "latency", ms: 100 } });
    const started = performance.now();
    await (await aws.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(proxy.requests[0].endedAt! - proxy.requests[0].startedAt).toBeGreaterThanOrEqual(95);
  });

  it("applies probabilistic rules from an injectable random source", async () => {
    const rolls = [0.1, 0.9]; // first request: 0.1 < 0.5, faulted; the retry: 0.9, passed
    const seeded = await startFaultProxy(moto.endpoint, { random: () => rolls.shift() ?? 0.99 });
    seeded.addRule({ match: on.any(), fault: { kind: "serverError" }, probability: 0.5 });
    const factory = createAwsClientFactory({ endpoint: seeded.endpoint });
    const output = await (await factory.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}));
    expect(output.$metadata.attempts).toBe(2);
    expect(seeded.requests.map((r) => r.fault)).toEqual(["serverError", null]);
    factory.destroy();
    await seeded.stop();
  });

  it("keeps SigV4 valid under IAM enforcement (Host forwarded unchanged)", async () => {
    const user = await createIamUser(moto.endpoint, { userName: "via-proxy", policy: policy([{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }]) });
    await moto.setIamEnforcement(true);
    const keys: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
    expect((await (await aws.client("sts", "us-east-1", keys)).send(new GetCallerIdentityCommand({}))).Arn).toBe(user.arn);
    await (await aws.client("s3", "us-east-1", keys)).send(new ListBucketsCommand({}));
  });
});

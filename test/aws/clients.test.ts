// The client factory: one client per (service, region, credentials), keyed without the raw secret,
// pointed at the configured endpoint, and observable through the call middleware.
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { clientCacheKey, createAwsClientFactory, type AwsCallRecord, type AwsCredentialSource } from "../../src/aws/clients.js";
import { useMoto } from "../support/fixtures.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const keyA: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: SECRET };
const keyB: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: `${SECRET}x` };

const moto = useMoto();

describe("client cache", () => {
  it("returns the same client for the same service, region and credentials", async () => {
    const aws = createAwsClientFactory({ endpoint: moto.endpoint });
    expect(await aws.client("s3", "eu-west-1", keyA)).toBe(await aws.client("s3", "eu-west-1", { ...keyA }));
    expect(await aws.client("s3", "eu-west-1", keyA)).not.toBe(await aws.client("s3", "eu-west-1", keyB));
    expect(await aws.client("s3", "eu-west-1", keyA)).not.toBe(await aws.client("s3", "us-east-1", keyA));
    expect(await aws.client("s3", "eu-west-1", keyA)).not.toBe(await aws.client("ec2", "eu-west-1", keyA));
    expect(await aws.client("sts", "us-east-1", { mode: "DEFAULT" })).toBe(await aws.client("sts", "us-east-1", { mode: "DEFAULT" }));
    expect(aws.size()).toBe(5);
    aws.destroy();
  });

  it("returns one client to concurrent first calls (the SDK package loads in between)", async () => {
    const aws = createAwsClientFactory({ endpoint: moto.endpoint });
    const [a, b] = await Promise.all([aws.client("iam", "us-east-1", keyA), aws.client("iam", "us-east-1", { ...keyA })]);
    expect(a).toBe(b);
    expect(aws.size()).toBe(1);
    aws.destroy();
  });

  it("keys by a SHA-256 digest, never the secret itself", () => {
    const key = clientCacheKey("s3", "eu-west-1", keyA);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(SECRET);
    expect(key).not.toBe(clientCacheKey("s3", "eu-west-1", keyB));
  });

  it("is bounded: the least recently used client is dropped", async () => {
    const aws = createAwsClientFactory({ endpoint: moto.endpoint, maxClients: 2 });
    const first = await aws.client("sts", "us-east-1", keyA);
    await aws.client("sts", "us-east-2", keyA);
    await aws.client("sts", "us-east-1", keyA); // touch: us-east-2 is now the oldest
    await aws.client("sts", "us-west-1", keyA);
    expect(aws.size()).toBe(2);
    expect(await aws.client("sts", "us-east-1", keyA)).toBe(first);
    aws.destroy();
  });
});

describe("endpoint", () => {
  it("takes the endpoint option, else AWS_ENDPOINT_URL", () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    try {
      process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:1";
      expect(createAwsClientFactory().endpoint).toBe("http://127.0.0.1:1");
      expect(createAwsClientFactory({ endpoint: moto.endpoint }).endpoint).toBe(moto.endpoint);
      delete process.env.AWS_ENDPOINT_URL;
      expect(createAwsClientFactory().endpoint).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it("talks to the endpoint, S3 path-style", async () => {
    const aws = createAwsClientFactory({ endpoint: moto.endpoint });
    const creds: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
    expect((await (await aws.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}))).Account).toBe("123456789012");
    const s3 = await aws.client("s3", "us-east-1", creds);
    await s3.send(new CreateBucketCommand({ Bucket: "path-style" }));
    await s3.send(new PutObjectCommand({ Bucket: "path-style", Key: "k", Body: "v" }));
    expect((await s3.send(new ListObjectsV2Command({ Bucket: "path-style" }))).KeyCount).toBe(1);
    aws.destroy();
  });
});

describe("middleware", () => {
  it("sees every call with its IAM action, region, derivable resource and parameters", async () => {
    const calls: AwsCallRecord[] = [];
    const aws = createAwsClientFactory({ endpoint: moto.endpoint, middleware: (call) => void calls.push(call) });
    const creds: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
    await (await aws.client("s3", "eu-west-1", creds)).send(new CreateBucketCommand({ Bucket: "mw-bucket", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
    await (await aws.client("s3", "eu-west-1", creds)).send(new PutObjectCommand({ Bucket: "mw-bucket", Key: "a/b", Body: "x" }));
    await (await aws.client("sts", "us-east-1", creds)).send(new GetCallerIdentityCommand({}));
    expect(calls).toEqual([
      {
        service: "s3",
        region: "eu-west-1",
        operation: "CreateBucket",
        action: "s3:CreateBucket",
        resource: "arn:aws:s3:::mw-bucket",
        target: "mw-bucket",
        parameters: { Bucket: "mw-bucket", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } },
      },
      {
        service: "s3",
        region: "eu-west-1",
        operation: "PutObject",
        action: "s3:PutObject",
        resource: "arn:aws:s3:::mw-bucket/a/b",
        target: "mw-bucket",
        // Payloads (and secret values, user data) are withheld from the record.
        parameters: { Bucket: "mw-bucket", Key: "a/b", Body: "[withheld]" },
      },
      { service: "sts", region: "us-east-1", operation: "GetCallerIdentity", action: "sts:GetCallerIdentity", resource: undefined, target: undefined, parameters: {} },
    ]);
    aws.destroy();
  });

  it("can fail a call before it is sent", async () => {
    const aws = createAwsClientFactory({
      endpoint: moto.endpoint,
      middleware: () => {
        throw new Error("blocked by test");
      },
    });
    const sts = await aws.client("sts", "us-east-1", { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toThrow("blocked by test");
    aws.destroy();
  });
});

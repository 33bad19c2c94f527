// Project secrets against moto_server (which stores resource policies but never enforces them), with
// the fault proxy for AWS's "principal not propagated yet" answer to PutResourcePolicy.
import { DescribeSecretCommand, GetResourcePolicyCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { createAwsClientFactory } from "../../src/aws/clients.js";
import type { AwsSession } from "../../src/aws/discovery.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import * as projectSecrets from "../../src/aws/compute/project-secrets.js";
import { instanceRoleArn } from "../../src/aws/names.js";
import {
  deleteProjectSecret,
  projectSecretId,
  projectSecretNameProblem,
  secretResourcePolicy,
  setProjectSecret,
} from "../../src/aws/compute/project-secrets.js";
import { on } from "../support/fault-proxy.js";
import { useAwsClient, useAwsSession, useFaultProxy, useMoto } from "../support/fixtures.js";
import { secretsClient } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const BUCKET = "my-bucket";
const ROLE = "arn:aws:iam::123456789012:role/dstack_role_my_bucket";
const VALUE = "s3cr3t-v4lue-never-returned";

const moto = useMoto();
const proxy = useFaultProxy(moto);
const { calls, session } = useAwsSession(moto);
const inspect = useAwsClient(() => secretsClient(moto.endpoint, REGION));

describe("names and policy", () => {
  it("names secrets /dstack/<bucket>/secrets/<project id>/<name>", () => {
    expect(projectSecretId(BUCKET, "proj-1", "HF_TOKEN")).toBe("/dstack/my-bucket/secrets/proj-1/HF_TOKEN");
    expect(instanceRoleArn("aws", "123456789012", BUCKET)).toBe(ROLE);
  });

  it("validates secret names", () => {
    for (const good of ["HF_TOKEN", "a", "wandb.key", "db-password", "_x"]) expect(projectSecretNameProblem(good), good).toBeNull();
    for (const bad of ["", "a/b", "../x", ".hidden", "-x", "has space", "x".repeat(129), "é"]) expect(projectSecretNameProblem(bad), bad).not.toBeNull();
  });

  it("lets only the instance role read the secret", () => {
    expect(secretResourcePolicy(ROLE)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "InstanceRoleReads", Effect: "Allow", Principal: { AWS: ROLE }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
    });
    expect(secretResourcePolicy(ROLE, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf")).toMatchObject({
      Statement: [{ Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf" }],
    });
  });

  it("offers no way to read a value back", () => {
    expect(Object.keys(projectSecrets).filter((name) => /get|read|value|list/i.test(name))).toEqual([]);
  });
});

describe("setProjectSecret / deleteProjectSecret", () => {
  it("creates the tagged secret under the right name with the resource policy, and never returns the value", async () => {
    const result = await setProjectSecret(session, REGION, { bucket: BUCKET, projectId: "proj-1", name: "HF_TOKEN", value: VALUE });
    expect(result).toMatchObject({ ok: true, value: { secretId: "/dstack/my-bucket/secrets/proj-1/HF_TOKEN", created: true } });
    expect(JSON.stringify(result)).not.toContain(VALUE);
    const secretId = "/dstack/my-bucket/secrets/proj-1/HF_TOKEN";
    const described = await inspect.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: "owner", Value: "dstack" }, { Key: "dstack_bucket", Value: BUCKET }]));
    const policy = await inspect.send(new GetResourcePolicyCommand({ SecretId: secretId }));
    // The role ARN comes from sts:GetCallerIdentity when provisioning did not pass it.
    expect(JSON.parse(policy.ResourcePolicy!)).toEqual(secretResourcePolicy(ROLE));
    expect((await inspect.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString).toBe(VALUE);

    // Replacing keeps the name, and the calls stay within the seed's policy (STS needs no permission).
    const replaced = await setProjectSecret(session, REGION, { bucket: BUCKET, projectId: "proj-1", name: "HF_TOKEN", value: "v2", instanceRoleArn: ROLE });
    expect(replaced).toMatchObject({ ok: true, value: { created: false } });
    const granted = new Set(awsIamPolicyDocument(BUCKET).Statement.flatMap((s) => s.Action));
    expect(calls.map((c) => c.action).filter((a) => !granted.has(a))).toEqual(["sts:GetCallerIdentity"]);
    expect(calls.map((c) => c.action)).not.toContain("secretsmanager:GetSecretValue");
  });

  it("refuses invalid names and project ids before calling AWS", async () => {
    for (const input of [
      { projectId: "proj-1", name: "a/b" },
      { projectId: "proj/1", name: "ok" },
      { projectId: "", name: "ok" },
    ]) {
      expect(await setProjectSecret(session, REGION, { bucket: BUCKET, value: VALUE, ...input })).toMatchObject({ ok: false, error: { kind: "INVALID_INPUT" } });
    }
    expect(calls).toEqual([]);
  });

  it("retries the resource policy while AWS does not know the role yet", async () => {
    const viaProxy: AwsSession = { factory: createAwsClientFactory({ endpoint: proxy.endpoint }), credentials: session.credentials };
    proxy.addRule({
      match: on.action("PutResourcePolicy"),
      fault: {
        kind: "respond",
        status: 400,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "MalformedPolicyDocumentException" },
        body: JSON.stringify({ __type: "MalformedPolicyDocumentException", message: "This resource policy contains an unsupported principal." }),
      },
      times: 2,
    });
    const result = await setProjectSecret(
      viaProxy,
      REGION,
      { bucket: BUCKET, projectId: "proj-1", name: "TOKEN", value: VALUE, instanceRoleArn: ROLE },
      { delayMs: 10 },
    );
    viaProxy.factory.destroy();
    expect(result.ok).toBe(true);
    expect(proxy.requests.filter((r) => r.action === "PutResourcePolicy")).toHaveLength(3);
  });

  it("deletes at once; deleting again succeeds", async () => {
    await setProjectSecret(session, REGION, { bucket: BUCKET, projectId: "proj-1", name: "TOKEN", value: VALUE, instanceRoleArn: ROLE });
    expect(await deleteProjectSecret(session, REGION, { bucket: BUCKET, projectId: "proj-1", name: "TOKEN" })).toEqual({
      ok: true,
      value: { secretId: "/dstack/my-bucket/secrets/proj-1/TOKEN" },
    });
    await expect(inspect.send(new GetSecretValueCommand({ SecretId: "/dstack/my-bucket/secrets/proj-1/TOKEN" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    expect(await deleteProjectSecret(session, REGION, { bucket: BUCKET, projectId: "proj-1", name: "TOKEN" })).toMatchObject({ ok: true });
  });
});

// Secrets Manager through the store: create-or-replace without DescribeSecret, tags, forced delete,
// resource policy. (moto evaluates Secrets Manager permissions against Resource "*" only, so the
// documented, ARN-scoped policy cannot be enforced here; the test checks the actions used instead.)
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { credentialsSecretName, projectSecretName } from "../../src/aws/names.js";
import { deleteSecret, putSecret, putSecretResourcePolicy } from "../../src/aws/secrets-store.js";
import { useAwsClient, useAwsSession, useMoto } from "../support/fixtures.js";
import { secretsClient } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const moto = useMoto();
const { calls, session } = useAwsSession(moto);
const inspect = useAwsClient(() => secretsClient(moto.endpoint, REGION));

describe("secrets store", () => {
  it("names secrets under the prefixes the documented policy allows", () => {
    expect(credentialsSecretName("my-bucket", "b1")).toBe("/dstack/my-bucket/credentials/b1");
    expect(projectSecretName("my-bucket", "token")).toBe("/dstack/my-bucket/secrets/token");
  });

  it("creates a tagged secret, then replaces its value", async () => {
    const name = credentialsSecretName("my-bucket", "b1");
    const created = await putSecret(session, REGION, { name, value: "first", bucket: "my-bucket" });
    expect(created).toMatchObject({ ok: true, value: { created: true } });
    const arn = created.ok ? created.value.arn : "";
    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:123456789012:secret:/dstack/my-bucket/credentials/b1-\\w{6}$`));

    const replaced = await putSecret(session, REGION, { name, value: "second", bucket: "my-bucket" });
    expect(replaced).toMatchObject({ ok: true, value: { created: false, arn } });

    expect((await inspect.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("second");
    expect((await inspect.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first");
    const tags = (await inspect.send(new DescribeSecretCommand({ SecretId: name }))).Tags;
    expect(tags).toEqual(expect.arrayContaining([{ Key: "owner", Value: "dstack" }, { Key: "dstack_bucket", Value: "my-bucket" }]));
  });

  it("uses only actions the documented policy grants", async () => {
    const name = projectSecretName("my-bucket", "s");
    await putSecret(session, REGION, { name, value: "v1", bucket: "my-bucket" });
    await putSecret(session, REGION, { name, value: "v2", bucket: "my-bucket" });
    await putSecretResourcePolicy(session, REGION, name, { Version: "2012-10-17", Statement: [] });
    await deleteSecret(session, REGION, name);
    const granted = new Set(awsIamPolicyDocument("my-bucket").Statement.flatMap((s) => s.Action));
    expect(calls.map((c) => c.action)).toEqual([
      "secretsmanager:CreateSecret",
      "secretsmanager:CreateSecret",
      "secretsmanager:PutSecretValue",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:DeleteSecret",
    ]);
    expect(calls.every((c) => granted.has(c.action))).toBe(true);
  });

  it("deletes at once, so the name can be reused; deleting a missing secret succeeds", async () => {
    const name = credentialsSecretName("my-bucket", "gone");
    await putSecret(session, REGION, { name, value: "v", bucket: "my-bucket" });
    expect(await deleteSecret(session, REGION, name)).toEqual({ ok: true, value: undefined });
    await expect(inspect.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(await putSecret(session, REGION, { name, value: "again", bucket: "my-bucket" })).toMatchObject({ ok: true, value: { created: true } });
    expect(await deleteSecret(session, REGION, credentialsSecretName("my-bucket", "never-existed"))).toEqual({ ok: true, value: undefined });
  });

  it("stores a resource policy", async () => {
    const name = projectSecretName("my-bucket", "shared");
    await putSecret(session, REGION, { name, value: "v", bucket: "my-bucket" });
    const document = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/dstack_role_my_bucket" }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
    };
    expect(await putSecretResourcePolicy(session, REGION, name, document)).toEqual({ ok: true, value: undefined });
    const stored = await inspect.send(new GetResourcePolicyCommand({ SecretId: name }));
    expect(JSON.parse(stored.ResourcePolicy!)).toEqual(document);
  });

  it("reports a refusal as a classified failure, not a throw", async () => {
    await moto.setIamEnforcement(true); // test/test is unknown to moto's IAM now
    const result = await putSecret(session, REGION, { name: credentialsSecretName("b", "x"), value: "top-secret-value", bucket: "b" });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      // moto answers JSON-protocol auth failures with XML: the SDK cannot parse it, the status is 403.
      expect(result.error).toMatchObject({ httpStatus: 403, action: "secretsmanager:CreateSecret" });
      expect(JSON.stringify(result.error)).not.toContain("top-secret-value");
    }
  });
});

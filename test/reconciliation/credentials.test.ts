// Credentials AWS no longer accepts, and reads the backend's policy does not allow, through the
// real server, GraphQL and moto with IAM enforcement on (moto.md §2). moto checks whether an access
// key exists but not whether it is active (stack-notes.md), so "no longer accepted" is a deleted key.
import { CreateAccessKeyCommand, DeleteAccessKeyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAdminUser, iamClient, type MotoUser } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { UPDATE } from "../backends/support.js";
import { backendState, launch, provisionedBackend, reconcile } from "./support.js";

const REGION = "eu-west-1";
let moto: MotoServer;
let t: TestServer;
let seq = 0;
let admin: MotoUser;
let backendId: string;
let user: MotoUser;

beforeAll(async () => {
  moto = await startMoto();
  t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" });
});
afterAll(async () => {
  await moto.setIamEnforcement(false);
  await t?.close();
});
beforeEach(async () => {
  await moto.reset();
  admin = await createAdminUser(moto.endpoint);
  const bucket = `creds-${process.pid % 1000}-${++seq}`;
  ({ backendId, user } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION));
  await moto.setIamEnforcement(true); // from here on only keys moto knows, within their policies
});

describe("credentials and denied reads", () => {
  it("a read the seed's policy does not grant is a CHECK_DENIED finding naming the action, and nothing else changes", async () => {
    expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "READY" });
    const { findings, status } = await backendState(t.admin, backendId);
    expect(status).toBe("READY");
    // iam:ListAttachedRolePolicies is beyond the seed's policy (docs/permissions.md).
    expect(findings).toContainEqual(
      expect.objectContaining({ kind: "CHECK_DENIED", action: "REPORTED", resourceType: "iam:role-policy-attachment", message: expect.stringContaining("iam:ListAttachedRolePolicies") }),
    );
    expect(findings.every((finding) => finding.kind === "CHECK_DENIED")).toBe(true);
    // Seen again: still one finding per denied read.
    await reconcile(t.admin, backendId);
    expect((await backendState(t.admin, backendId)).findings).toHaveLength(findings.length);
  });

  it("a deleted access key: CREDENTIALS_INVALID with AWS's reason; READY again when the key works, and after updateAwsBackend", async () => {
    const iam = iamClient(moto.endpoint, admin);
    await iam.send(new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: user.accessKeyId }));

    expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "CREDENTIALS_INVALID" });
    const invalid = await backendState(t.admin, backendId);
    const rejected = invalid.findings.filter((finding) => finding.kind === "CREDENTIALS_REJECTED");
    expect(rejected).toEqual([
      expect.objectContaining({ action: "REPORTED", resourceType: "iam:access-key", message: expect.stringMatching(/AWS does not recognise the access key ID.*InvalidClientTokenId/) }),
    ]);
    expect(rejected[0]!.resourceId).toBe(`${user.accessKeyId.slice(0, 4)}…${user.accessKeyId.slice(-4)}`);
    const refused = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(refused.userErrors[0]).toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("CREDENTIALS_INVALID") });

    // With enforcement off moto accepts any key again: the key works again, and the next pass says so.
    await moto.setIamEnforcement(false);
    expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "READY" });
    expect((await backendState(t.admin, backendId)).findings[0]).toMatchObject({ kind: "CREDENTIALS_REJECTED", action: "REPAIRED" });

    // Rejected again; a new key entered with updateAwsBackend makes it READY at once.
    await moto.setIamEnforcement(true);
    expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "CREDENTIALS_INVALID" });
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey!;
    iam.destroy();
    await moto.setIamEnforcement(false); // moto would refuse the secret's write under the seed's policy (moto.md §2), not AWS
    const updated = await t.admin.ok(UPDATE, { id: backendId, input: { credentials: { mode: "ACCESS_KEY", accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } } });
    expect(updated.updateAwsBackend.userErrors).toEqual([]);
    expect(updated.updateAwsBackend.backend.status).toBe("READY");
  });
});

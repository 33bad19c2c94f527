// deleteBackend on a backend whose provisioning created AWS resources, through the real server and
// moto: refused (BACKEND_BUSY) naming what is still there and what removes it, so nothing
// provisioning created is ever forgotten; with teardown: true, torn down first and deleted when the
// run succeeds, leaving nothing of it in the account (resources, project secrets, credentials).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { DUMMY_KEYS } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { bucketUs, counts, inventory, waitUntil } from "../provisioning/harness.js";
import { createSeedBackend, PROVISION, RUN_FIELDS, waitForRun } from "../provisioning/support.js";
import { backendRow, secretNames, withDb } from "./support.js";

const REGION = "us-east-1";
const DELETE = `mutation($id: ID!, $teardown: Boolean) { deleteBackend(id: $id, teardown: $teardown) { deletedBackendId run { ${RUN_FIELDS} } userErrors { code field message } } }`;
const PLAIN_DELETE = `mutation($id: ID!) { deleteBackend(id: $id) { deletedBackendId userErrors { code field message } } }`;
const BACKEND = `query($id: ID!) { backend(id: $id) { id status } }`;
const SET_SECRET = `mutation($projectId: ID!, $backendId: ID!, $input: SetProjectSecretInput!) {
  setProjectSecret(projectId: $projectId, backendId: $backendId, input: $input) { secret { name } userErrors { code field message } } }`;
const LAUNCH = `mutation($backendId: ID!) { launchInstance(backendId: $backendId, input: { instanceType: "t3.micro" }) { instance { id } userErrors { code field message } } }`;
const NOTHING = { policies: 0, roles: 0, profiles: 0, securityGroups: 0, logGroups: 0, ourLifecycleRules: 0 };
const ONE_OF_EACH = { policies: 1, roles: 1, profiles: 1, securityGroups: 1, logGroups: 2, ourLifecycleRules: 2 };

let moto: MotoServer;
let t: TestServer;
let seq = 0;

beforeAll(async () => {
  moto = await startMoto();
  t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0" });
});
afterAll(() => t?.close());
beforeEach(() => moto.reset());

/** A READY backend with one project secret. */
async function provisioned() {
  const bucket = `del-prov-${process.pid % 1000}-${++seq}`;
  const { backendId, projectId } = await createSeedBackend(t.admin, moto.endpoint, bucket, REGION);
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  const secret = await t.admin.ok(SET_SECRET, { projectId, backendId, input: { name: "HF_TOKEN", value: "hf_value" } });
  expect(secret.setProjectSecret.userErrors).toEqual([]);
  expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(ONE_OF_EACH);
  return { bucket, backendId, projectId };
}

const resourceRows = (backendId: string) =>
  withDb(t.databaseUrl, async (db) => Number((await db.query(`SELECT count(*) AS n FROM "BackendResource" WHERE "backendId" = $1`, [backendId])).rows[0].n));

describe("deleteBackend on a provisioned backend", () => {
  it("is refused with BACKEND_BUSY naming what provisioning created and teardownBackend; the backend, its records and its AWS resources stay", async () => {
    const { bucket, backendId } = await provisioned();
    const before = await resourceRows(backendId);
    expect(before).toBeGreaterThan(0);

    const refused = (await t.admin.ok(PLAIN_DELETE, { id: backendId })).deleteBackend;
    expect(refused.deletedBackendId).toBeNull();
    expect(refused.userErrors).toEqual([{ code: "BACKEND_BUSY", field: ["id"], message: expect.stringContaining("Run teardownBackend to remove them") }]);
    const message: string = refused.userErrors[0].message;
    const found = await inventory(moto.endpoint, REGION, bucket);
    for (const named of [found.policies[0].arn, `role/dstack_role_${bucketUs(bucket)}`, found.securityGroups[0].id, `/dstack/jobs/${bucket}`]) {
      expect(message).toContain(named);
    }
    expect(message).toContain("teardown: true");

    expect((await t.admin.ok(BACKEND, { id: backendId })).backend).toEqual({ id: backendId, status: "READY" });
    expect(await resourceRows(backendId)).toBe(before);
    expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(ONE_OF_EACH);
  });

  it("with teardown: true tears down first, refuses new work meanwhile, and deletes the backend when the run succeeds: nothing of it is left in AWS", async () => {
    const { bucket, backendId, projectId } = await provisioned();
    const credentialsSecret = (await backendRow(t.databaseUrl, backendId))!.credentialsSecretName!;
    expect(await secretNames(moto.endpoint, REGION, DUMMY_KEYS)).toEqual(expect.arrayContaining([credentialsSecret, expect.stringContaining(`/secrets/${projectId}/HF_TOKEN`)]));

    const started = (await t.admin.ok(DELETE, { id: backendId, teardown: true })).deleteBackend;
    expect(started.userErrors).toEqual([]);
    expect(started.deletedBackendId).toBeNull();
    expect(started.run).toMatchObject({ kind: "TEARDOWN" });

    // Until it is gone, nothing new is added to it (a launch, a provisioning run, a project secret).
    const [launch, provision, secret] = await Promise.all([
      t.admin.ok(LAUNCH, { backendId }),
      t.admin.ok(PROVISION, { id: backendId }),
      t.admin.ok(SET_SECRET, { projectId, backendId, input: { name: "LATE", value: "v" } }),
    ]);
    for (const errors of [launch.launchInstance.userErrors, provision.provisionBackend.userErrors, secret.setProjectSecret.userErrors]) {
      expect(errors.map((e: { code: string }) => e.code)).toEqual([expect.stringMatching(/^(BACKEND_BUSY|NOT_FOUND)$/)]);
    }

    await waitUntil("the backend to be deleted", async () => (await t.admin.ok(BACKEND, { id: backendId })).backend === null, 60_000, 100);
    expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(NOTHING);
    expect(await secretNames(moto.endpoint, REGION, DUMMY_KEYS)).toEqual([]);
    expect(await resourceRows(backendId)).toBe(0);
  });
});

// updateAwsBackend when the row update fails after the new credentials secret was written (the
// name is taken by another backend of the project: NAME_TAKEN, a real failure, no fault injected).
// The row must never point at a secret that is gone, and the new secret must not stay behind:
// write the new secret, update the row, delete the old one; on failure, take the new one back.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { createBucket, createIamUser, DUMMY_KEYS, policy, type MotoUser } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { accessKey, backendRow, CREATE, newProject, readSecret, secretNames, UPDATE } from "./support.js";

const REGION = "us-east-1";
const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);

let moto: MotoServer;
let t: TestServer;
let projectId: string;
let keys: MotoUser;
let seq = 0;

beforeAll(async () => {
  moto = await startMoto();
  t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint });
  projectId = await newProject(t.admin, "update-failure");
});
afterAll(() => t?.close());
beforeEach(async () => {
  await moto.reset();
  keys = await createIamUser(moto.endpoint, { userName: "dstack", policy: ALLOW_ALL });
  await createBucket(moto.endpoint, "upd-old", REGION);
  await createBucket(moto.endpoint, "upd-new", REGION);
});

async function createBackend(name: string): Promise<string> {
  const created = await t.admin.ok(CREATE, { projectId, input: { name, region: REGION, bucket: "upd-old", credentials: accessKey(keys) } });
  expect(created.createAwsBackend.userErrors).toEqual([]);
  return created.createAwsBackend.backend.id;
}

/** The backend still works as stored: its row's secret exists and holds exactly the row's sealed credentials. */
async function expectIntact(id: string, sealedBefore: string) {
  const row = (await backendRow(t.databaseUrl, id))!;
  expect(row.sealedCredentials).toBe(sealedBefore);
  expect(row.credentialsSecretName).toBe(`/dstack/upd-old/credentials/${id}`);
  expect((await readSecret(moto.endpoint, REGION, row.credentialsSecretName!, DUMMY_KEYS))?.value).toBe(sealedBefore);
}

describe("updateAwsBackend that fails after writing the new secret (NAME_TAKEN)", () => {
  it("moving to another bucket: the old secret is kept and the new one removed", async () => {
    const id = await createBackend(`moving-${++seq}`);
    const taken = await createBackend(`taken-${seq}`);
    const sealedBefore = (await backendRow(t.databaseUrl, id))!.sealedCredentials!;

    const refused = await t.admin.ok(UPDATE, { id, input: { name: `taken-${seq}`, bucket: "upd-new" } });
    expect(refused.updateAwsBackend).toEqual({ backend: null, userErrors: [{ code: "NAME_TAKEN", field: ["input", "name"], message: expect.any(String) }] });
    await expectIntact(id, sealedBefore);
    expect(await secretNames(moto.endpoint, REGION, DUMMY_KEYS)).toEqual([`/dstack/upd-old/credentials/${id}`, `/dstack/upd-old/credentials/${taken}`].sort());
  });

  it("new keys in the same bucket (the secret is replaced in place): the secret gets the old sealed value back", async () => {
    const id = await createBackend(`rotating-${++seq}`);
    await createBackend(`taken-${seq}`);
    const sealedBefore = (await backendRow(t.databaseUrl, id))!.sealedCredentials!;
    const rotated = await createIamUser(moto.endpoint, { userName: "dstack-rotated", policy: ALLOW_ALL });

    const refused = await t.admin.ok(UPDATE, { id, input: { name: `taken-${seq}`, credentials: accessKey(rotated) } });
    expect(refused.updateAwsBackend.userErrors.map((e: { code: string }) => e.code)).toEqual(["NAME_TAKEN"]);
    await expectIntact(id, sealedBefore);

    // The backend is still usable with its stored keys: an update that validates with them works.
    const renamed = await t.admin.ok(UPDATE, { id, input: { name: `renamed-${seq}`, bucket: "upd-new" } });
    expect(renamed.updateAwsBackend.userErrors).toEqual([]);
    expect((await secretNames(moto.endpoint, REGION, DUMMY_KEYS)).filter((name) => name.endsWith(id))).toEqual([`/dstack/upd-new/credentials/${id}`]);
  });
});

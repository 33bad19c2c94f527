// Sealed credentials at rest, through the real server: an envelope that was tampered with, or
// copied onto another backend's row, is refused with a clear error (never a 500), and key
// rotation works across restarts: old keys decrypt, the newest encrypts, resealCredentials
// moves every envelope (and its Secrets Manager copy) to the newest key.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import { createTestDatabase } from "../support/database.js";
import { createAdminUser, createBucket, createIamUser, policy, type MotoUser } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import {
  accessKey,
  backendRow,
  BACKEND,
  CREATE,
  DELETE,
  newKeyMaterial,
  newProject,
  newUser,
  openSealed,
  readSecret,
  RESEAL,
  setSealed,
  tamper,
  UPDATE,
} from "./support.js";

const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);
const BUCKET = "sealed-state";
const K1 = `k1:${newKeyMaterial()}`;
const K2 = `k2:${newKeyMaterial()}`;

const moto = useMoto();
let admin: MotoUser;
let dstack: MotoUser;

beforeEach(async () => {
  admin = await createAdminUser(moto.endpoint);
  dstack = await createIamUser(moto.endpoint, { userName: "dstack", policy: ALLOW_ALL });
  await createBucket(moto.endpoint, BUCKET, "us-east-1");
  await moto.setIamEnforcement(true);
});

async function createBackend(t: TestServer, projectId: string, name: string) {
  const result = await t.admin.ok(CREATE, { projectId, input: { name, region: "us-east-1", bucket: BUCKET, credentials: accessKey(dstack) } });
  expect(result.createAwsBackend.userErrors).toEqual([]);
  return result.createAwsBackend.backend as { id: string; name: string; aws: { credentialsSecretName: string } };
}

/** updateAwsBackend without credentials: it has to open the stored ones to validate. */
async function rename(t: TestServer, id: string, name: string) {
  const response = await t.admin.request(UPDATE, { id, input: { name } });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data.updateAwsBackend;
}

const unusable = (message: RegExp) => ({
  backend: null,
  userErrors: [{ code: "AWS_CREDENTIALS_INVALID", field: ["input", "credentials"], message: expect.stringMatching(message) }],
});

describe("with one key", () => {
  const t = useServer({ ENCRYPTION_KEYS: K1 }, { aws: moto });
  let projectId: string;
  beforeAll(async () => {
    projectId = await newProject(t.admin, "sealed");
  });

  it("a tampered envelope cannot be used: a clear error, not a 500; new credentials recover the backend", async () => {
    const backend = await createBackend(t, projectId, "tampered");
    const original = (await backendRow(t.databaseUrl, backend.id))!.sealedCredentials!;
    await setSealed(t.databaseUrl, backend.id, tamper(original));

    expect(await rename(t, backend.id, "renamed")).toEqual(unusable(/cannot be used \(sealed data could not be opened: it was modified or belongs to a different record.*Enter the access key again/));
    expect((await backendRow(t.databaseUrl, backend.id))!.name).toBe("tampered");
    expect(t.logs.join("\n")).not.toContain("INTERNAL_SERVER_ERROR");
    expect(t.logs.join("\n")).not.toContain("unexpected error");

    // Entering the key again replaces the broken envelope, in PostgreSQL and in Secrets Manager.
    const recovered = await t.admin.ok(UPDATE, { id: backend.id, input: { name: "recovered", credentials: accessKey(dstack) } });
    expect(recovered.updateAwsBackend.userErrors).toEqual([]);
    const row = (await backendRow(t.databaseUrl, backend.id))!;
    expect(openSealed(K1, backend.id, row.sealedCredentials!)).toEqual({ accessKeyId: dstack.accessKeyId, secretAccessKey: dstack.secretAccessKey });
    expect((await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin))!.value).toBe(row.sealedCredentials);
    expect((await rename(t, backend.id, "works-again")).userErrors).toEqual([]);
  });

  it("a malformed envelope is refused the same way", async () => {
    const backend = await createBackend(t, projectId, "malformed");
    await setSealed(t.databaseUrl, backend.id, "not-an-envelope");
    expect(await rename(t, backend.id, "renamed")).toEqual(unusable(/sealed data is malformed/));
  });

  it("a backend whose envelope cannot be opened can still be deleted", async () => {
    const backend = await createBackend(t, projectId, "doomed");
    await setSealed(t.databaseUrl, backend.id, tamper((await backendRow(t.databaseUrl, backend.id))!.sealedCredentials!));
    const deleted = await t.admin.ok(DELETE, { id: backend.id });
    expect(deleted.deleteBackend).toEqual({ deletedBackendId: backend.id, userErrors: [] });
    expect(await backendRow(t.databaseUrl, backend.id)).toBeUndefined();
    expect((await t.admin.ok(BACKEND, { id: backend.id })).backend).toBeNull();
  });

  it("an envelope copied onto another backend's row is refused there, and still works where it belongs", async () => {
    const a = await createBackend(t, projectId, "source");
    const b = await createBackend(t, projectId, "target");
    const envelopeA = (await backendRow(t.databaseUrl, a.id))!.sealedCredentials!;
    await setSealed(t.databaseUrl, b.id, envelopeA);

    expect(await rename(t, b.id, "target-renamed")).toEqual(unusable(/modified or belongs to a different record/));
    expect((await backendRow(t.databaseUrl, b.id))!.name).toBe("target");
    // The envelope itself is intact: it opens for the backend it was sealed for.
    expect((await rename(t, a.id, "source-renamed")).userErrors).toEqual([]);
    expect((await backendRow(t.databaseUrl, a.id))!.sealedCredentials).toBe(envelopeA);
  });
});

describe("key rotation across restarts", () => {
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let running: TestServer | undefined;
  const start = async (keys: string) => {
    running = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, ENCRYPTION_KEYS: keys }, databaseUrl);
    return running;
  };
  const stop = async () => {
    await running?.close();
    running = undefined;
  };
  beforeEach(async () => {
    ({ url: databaseUrl, drop } = await createTestDatabase());
  });
  afterEach(async () => {
    await stop();
    await drop();
  });

  it("old key decrypts, new key encrypts, resealCredentials moves envelope and secret to the new key", async () => {
    // 1. Only k1: the backend is sealed with it.
    let t = await start(K1);
    const projectId = await newProject(t.admin, "rotation");
    const backend = await createBackend(t, projectId, "rotating");
    const sealedK1 = (await backendRow(t.databaseUrl, backend.id))!.sealedCredentials!;
    expect(sealedK1.startsWith("v1.k1.")).toBe(true);
    await stop();

    // 2. k2 alone (k1 dropped too early): the backend's credentials are unusable, clearly so, and re-sealing says which backend.
    t = await start(K2);
    expect(await rename(t, backend.id, "too-early")).toEqual(unusable(/unknown key id "k1"/));
    expect(await t.admin.ok(RESEAL)).toEqual({
      resealCredentials: {
        resealed: 0,
        unchanged: 0,
        userErrors: [{ code: "AWS_CREDENTIALS_INVALID", field: ["backends", backend.id], message: expect.stringMatching(/rotating.*unknown key id "k1"/) }],
      },
    });
    expect((await backendRow(t.databaseUrl, backend.id))!.sealedCredentials).toBe(sealedK1);
    await stop();

    // 3. k2 first, k1 still listed: the old envelope opens; re-sealing moves it to k2, in both places.
    t = await start(`${K2},${K1}`);
    expect((await rename(t, backend.id, "still-works")).userErrors).toEqual([]);
    expect((await backendRow(t.databaseUrl, backend.id))!.sealedCredentials).toBe(sealedK1);
    const user = await newUser(t, "not-an-admin");
    expect((await user.client.request(RESEAL)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    expect((await t.admin.ok(RESEAL)).resealCredentials).toEqual({ resealed: 1, unchanged: 0, userErrors: [] });
    const sealedK2 = (await backendRow(t.databaseUrl, backend.id))!.sealedCredentials!;
    expect(sealedK2.startsWith("v1.k2.")).toBe(true);
    expect(openSealed(K2, backend.id, sealedK2)).toEqual({ accessKeyId: dstack.accessKeyId, secretAccessKey: dstack.secretAccessKey });
    const secret = await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin);
    expect(secret!.value).toBe(sealedK2);
    expect(secret!.previousValue).toBe(sealedK1);
    expect((await t.admin.ok(RESEAL)).resealCredentials).toEqual({ resealed: 0, unchanged: 1, userErrors: [] });
    await stop();

    // 4. k2 alone: everything still works, delete included.
    t = await start(K2);
    expect((await rename(t, backend.id, "k2-only")).userErrors).toEqual([]);
    expect((await t.admin.ok(DELETE, { id: backend.id })).deleteBackend.userErrors).toEqual([]);
    expect(await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin)).toBeNull();
  });

  it("resealCredentials reports an envelope it cannot open and still re-seals the others", async () => {
    let t = await start(K1);
    const projectId = await newProject(t.admin, "reseal-partial");
    const good = await createBackend(t, projectId, "good");
    const broken = await createBackend(t, projectId, "broken");
    const tampered = tamper((await backendRow(t.databaseUrl, broken.id))!.sealedCredentials!);
    await setSealed(t.databaseUrl, broken.id, tampered);
    await stop();

    t = await start(`${K2},${K1}`);
    const response = await t.admin.request(RESEAL);
    expect(response.errors).toBeUndefined();
    expect(response.data.resealCredentials).toEqual({
      resealed: 1,
      unchanged: 0,
      userErrors: [{ code: "AWS_CREDENTIALS_INVALID", field: ["backends", broken.id], message: expect.stringMatching(/^Backend broken: its stored credentials cannot be re-sealed \(sealed data could not be opened/) }],
    });
    expect((await backendRow(t.databaseUrl, good.id))!.sealedCredentials!.startsWith("v1.k2.")).toBe(true);
    expect((await backendRow(t.databaseUrl, broken.id))!.sealedCredentials).toBe(tampered);
  });
});

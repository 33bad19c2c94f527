// DEFAULT credentials are the server's own AWS identity (its default chain; here the
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of this process): only a global admin may use them,
// AWS_DEFAULT_CREDENTIALS=disabled turns them off for everyone, and defaultCredentialsAvailable
// says whether they work for the caller.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useDefaultCredentialChain, useMoto, useServer } from "../support/fixtures.js";
import { createBucket, createIamUser, DUMMY_KEYS, policy, type MotoUser } from "../support/moto-iam.js";
import { type TestServer } from "../support/server.js";
import {
  accessKey,
  ACCOUNT_ID,
  backendCount,
  backendRow,
  CREATE,
  DISCOVER,
  newKeyMaterial,
  newProject,
  newUser,
  secretNames,
  UPDATE,
  withDb,
  type Person,
} from "./support.js";

const DEFAULT = { mode: "DEFAULT" };
const BUCKET = "server-bucket";

const moto = useMoto({ reset: "once" });
/** The server's default chain can find only what is set here: no profile files, no instance metadata. */
const setChain = useDefaultCredentialChain("all");

const discover = async (client: TestServer["admin"], input: object) => {
  const response = await client.request(DISCOVER, { input });
  expect(response.errors).toBeUndefined();
  return response.data.discoverAwsBackend;
};

describe("enabled (the default), with the server's identity in its environment", () => {
  let serverIdentity: MotoUser;
  let owner: Person; // a project ADMIN who is not a global admin
  let ownProject: string;

  beforeAll(async () => {
    await moto.reset();
    serverIdentity = await createIamUser(moto.endpoint, { userName: "backend-hub-server", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
    await createBucket(moto.endpoint, BUCKET, "us-east-1");
    setChain(serverIdentity);
  });
  const t = useServer({ ENCRYPTION_KEYS: `k1:${newKeyMaterial()}` }, { aws: moto });
  beforeAll(async () => {
    owner = await newUser(t, "owner");
    ownProject = await newProject(owner.client, "owned");
  });

  it("a global admin may use them: defaultCredentialsAvailable, and discovery as the server's identity", async () => {
    expect((await discover(t.admin, {})).defaultCredentialsAvailable).toBe(true);
    const result = await discover(t.admin, { credentials: DEFAULT, region: "us-east-1", bucket: BUCKET });
    expect(result.userErrors).toEqual([]);
    expect(result.defaultCredentialsAvailable).toBe(true);
    expect(result.identity).toEqual({ accountId: ACCOUNT_ID, arn: serverIdentity.arn });
    expect(result.buckets.map((b: any) => [b.name, b.region])).toEqual([[BUCKET, "us-east-1"]]);
  });

  it("a global admin may attach them: nothing is sealed or stored in Secrets Manager", async () => {
    const created = await t.admin.ok(CREATE, { projectId: ownProject, input: { name: "server-default", region: "us-east-1", bucket: BUCKET, credentials: DEFAULT } });
    expect(created.createAwsBackend.userErrors).toEqual([]);
    const backend = created.createAwsBackend.backend;
    expect(backend).toMatchObject({
      status: "CONFIGURED",
      aws: { credentialsMode: "DEFAULT", accessKeyIdHint: null, credentialsSecretName: null, accountId: ACCOUNT_ID },
    });
    expect((await backendRow(t.databaseUrl, backend.id))!.sealedCredentials).toBeNull();
    expect(await secretNames(moto.endpoint, "us-east-1", DUMMY_KEYS)).toEqual([]);
  });

  it("a project ADMIN who is not a global admin is refused them, and learns nothing about the server's account", async () => {
    expect((await discover(owner.client, {})).defaultCredentialsAvailable).toBe(false);
    const result = await discover(owner.client, { credentials: DEFAULT, region: "us-east-1", bucket: BUCKET });
    expect(result.defaultCredentialsAvailable).toBe(false);
    expect(result.userErrors).toEqual([
      { code: "AWS_DEFAULT_CREDENTIALS_DISABLED", message: expect.stringContaining("only a global admin"), field: ["input", "credentials", "mode"] },
    ]);
    expect(result).toMatchObject({ identity: null, buckets: [], subnets: [] });

    const before = await backendCount(t.databaseUrl);
    const created = await owner.client.ok(CREATE, { projectId: ownProject, input: { name: "borrowed", region: "us-east-1", bucket: BUCKET, credentials: DEFAULT } });
    expect(created.createAwsBackend).toEqual({
      backend: null,
      userErrors: [{ code: "AWS_DEFAULT_CREDENTIALS_DISABLED", message: expect.stringContaining("only a global admin"), field: ["input", "credentials", "mode"] }],
    });
    expect(await backendCount(t.databaseUrl)).toBe(before);
  });

  it("a project ADMIN cannot re-point a backend that uses them, except by giving an access key", async () => {
    await createBucket(moto.endpoint, "elsewhere", "us-east-1");
    const created = await t.admin.ok(CREATE, { projectId: ownProject, input: { name: "admin-made", region: "us-east-1", bucket: BUCKET, credentials: DEFAULT } });
    const id = created.createAwsBackend.backend.id;

    const repoint = await owner.client.ok(UPDATE, { id, input: { bucket: "elsewhere" } });
    expect(repoint.updateAwsBackend).toEqual({
      backend: null,
      userErrors: [{ code: "AWS_DEFAULT_CREDENTIALS_DISABLED", message: expect.stringContaining("give an access key"), field: ["input", "credentials"] }],
    });
    expect((await backendRow(t.databaseUrl, id))!.awsBucket).toBe(BUCKET);

    const ownKeys = await owner.client.ok(UPDATE, { id, input: { bucket: "elsewhere", credentials: accessKey(DUMMY_KEYS) } });
    expect(ownKeys.updateAwsBackend.userErrors).toEqual([]);
    expect(ownKeys.updateAwsBackend.backend.aws).toMatchObject({ bucket: "elsewhere", credentialsMode: "ACCESS_KEY" });

    // The global admin may keep using them.
    const other = await t.admin.ok(CREATE, { projectId: ownProject, input: { name: "admin-kept", region: "us-east-1", bucket: BUCKET, credentials: DEFAULT } });
    const kept = await t.admin.ok(UPDATE, { id: other.createAwsBackend.backend.id, input: { bucket: "elsewhere" } });
    expect(kept.updateAwsBackend.userErrors).toEqual([]);
    expect(kept.updateAwsBackend.backend.aws).toMatchObject({ bucket: "elsewhere", credentialsMode: "DEFAULT" });
  });
});

describe("disabled with AWS_DEFAULT_CREDENTIALS=disabled", () => {
  beforeAll(async () => {
    await moto.reset();
    await createBucket(moto.endpoint, BUCKET, "us-east-1");
    // The chain would work; the setting wins anyway.
    setChain(DUMMY_KEYS);
  });
  const t = useServer({ ENCRYPTION_KEYS: `k1:${newKeyMaterial()}`, AWS_DEFAULT_CREDENTIALS: "disabled" }, { aws: moto });

  it("are unavailable even to a global admin, in discovery, create and update; access keys still work", async () => {
    const projectId = await newProject(t.admin, "no-defaults");
    const disabled = { code: "AWS_DEFAULT_CREDENTIALS_DISABLED", message: expect.stringContaining("AWS_DEFAULT_CREDENTIALS=disabled"), field: ["input", "credentials", "mode"] };
    const result = await discover(t.admin, { credentials: DEFAULT, region: "us-east-1" });
    expect(result.defaultCredentialsAvailable).toBe(false);
    expect(result.userErrors).toEqual([disabled]);
    expect(result.identity).toBeNull();

    const created = await t.admin.ok(CREATE, { projectId, input: { region: "us-east-1", bucket: BUCKET, credentials: DEFAULT } });
    expect(created.createAwsBackend).toEqual({ backend: null, userErrors: [disabled] });
    expect(await backendCount(t.databaseUrl)).toBe(0);

    // A backend attached while they were enabled cannot be used through them any more.
    const id = randomUUID();
    await withDb(t.databaseUrl, (db) =>
      db.query(
        `INSERT INTO "Backend" (id, "projectId", name, "awsRegion", "awsBucket", "awsCredentialsMode", "updatedAt") VALUES ($1, $2, 'from-before', 'us-east-1', $3, 'DEFAULT', now())`,
        [id, projectId, BUCKET],
      ),
    );
    const updated = await t.admin.ok(UPDATE, { id, input: { name: "renamed" } });
    expect(updated.updateAwsBackend).toEqual({
      backend: null,
      userErrors: [{ code: "AWS_DEFAULT_CREDENTIALS_DISABLED", message: expect.stringContaining("AWS_DEFAULT_CREDENTIALS=disabled"), field: ["input", "credentials"] }],
    });

    const withKey = await discover(t.admin, { credentials: accessKey(DUMMY_KEYS), region: "us-east-1", bucket: BUCKET });
    expect(withKey.userErrors).toEqual([]);
    expect(withKey.identity).not.toBeNull();
  });
});

describe("enabled, but the server's chain finds no credentials", () => {
  beforeAll(async () => {
    await moto.reset();
    setChain(null);
  });
  const t = useServer({ ENCRYPTION_KEYS: `k1:${newKeyMaterial()}` }, { aws: moto });

  it("defaultCredentialsAvailable is false, and using them says the chain is empty", async () => {
    expect((await discover(t.admin, {})).defaultCredentialsAvailable).toBe(false);
    const result = await discover(t.admin, { credentials: DEFAULT, region: "us-east-1" });
    expect(result.userErrors).toEqual([
      { code: "AWS_CREDENTIALS_INVALID", message: expect.stringContaining("default credential chain"), field: ["input", "credentials"] },
    ]);
    expect(result.identity).toBeNull();
  });
});

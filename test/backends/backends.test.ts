// createAwsBackend / updateAwsBackend / deleteBackend through the real HTTP server against moto
// with IAM enforced: validation refuses before anything is stored, credentials are sealed into
// Secrets Manager and PostgreSQL alike, and only a project ADMIN may change a backend.
import { randomBytes } from "node:crypto";
import { DeleteAccessKeyCommand } from "@aws-sdk/client-iam";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import { createAdminUser, createBucket, createIamUser, createSubnet, iamClient, policy, type MotoUser } from "../support/moto-iam.js";
import {
  accessKey,
  ACCOUNT_ID,
  BACKEND,
  backendCount,
  backendRow,
  CREATE,
  DELETE,
  expectedHint,
  newKeyMaterial,
  newProject,
  newUser,
  openSealed,
  PROJECT_BACKENDS,
  readSecret,
  secretNames,
  setMember,
  UPDATE,
  withDb,
  type Person,
} from "./support.js";

const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);
const ENCRYPTION_KEYS = `k1:${newKeyMaterial()}`;
const BUCKET = "team-state";

const moto = useMoto();
const t = useServer({ ENCRYPTION_KEYS }, { aws: moto });
let owner: Person; // project ADMIN, global USER
let viewer: Person;
let member: Person; // project USER
let outsider: Person;
let projectId: string;
let counter = 0;
const uniqueName = (base: string) => `${base}-${++counter}`;

/** Per test: a moto admin (to observe), the bucket, and an IAM user whose keys the backend gets; IAM enforced from then on. */
let admin: MotoUser;
let dstack: MotoUser;

beforeAll(async () => {
  owner = await newUser(t, "owner");
  viewer = await newUser(t, "viewer");
  member = await newUser(t, "member");
  outsider = await newUser(t, "outsider");
  projectId = await newProject(owner.client, "backends");
  await setMember(owner.client, projectId, viewer.id, "VIEWER");
  await setMember(owner.client, projectId, member.id, "USER");
});
beforeEach(async () => {
  // Each test starts from no backends, in PostgreSQL as in AWS (useMoto resets moto).
  await withDb(t.databaseUrl, (db) => db.query(`DELETE FROM "Backend"`));
  admin = await createAdminUser(moto.endpoint);
  dstack = await createIamUser(moto.endpoint, { userName: "dstack", policy: ALLOW_ALL });
  await createBucket(moto.endpoint, BUCKET, "us-east-1");
  await moto.setIamEnforcement(true);
});

async function create(input: Record<string, unknown>, client = owner.client) {
  const response = await client.request(CREATE, { projectId, input: { name: uniqueName("aws"), region: "us-east-1", bucket: BUCKET, credentials: accessKey(dstack), ...input } });
  expect(response.status).toBe(200);
  return response;
}

async function createOk(input: Record<string, unknown> = {}) {
  const response = await create(input);
  expect(response.errors).toBeUndefined();
  expect(response.data.createAwsBackend.userErrors).toEqual([]);
  return response.data.createAwsBackend.backend;
}

async function update(id: string, input: Record<string, unknown>, client = owner.client) {
  const response = await client.request(UPDATE, { id, input });
  expect(response.status).toBe(200);
  return response;
}

describe("createAwsBackend", () => {
  it("is refused on any discovery problem, leaving no row and no secret behind", async () => {
    await createBucket(moto.endpoint, "dublin-bucket", "eu-west-1", admin);
    const farSubnet = await createSubnet(moto.endpoint, "eu-west-1", { cidr: "10.5.0.0/16", admin });
    const bucketOnly = await createIamUser(moto.endpoint, {
      userName: "no-list",
      policy: policy([{ Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation", "ec2:*", "secretsmanager:*"], Resource: "*" }]),
      admin,
    });
    const unknownKey = { mode: "ACCESS_KEY", accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(20).toString("hex") };
    const wrongSecret = { ...accessKey(dstack), secretAccessKey: randomBytes(20).toString("hex") };

    const cases: [string, Record<string, unknown>, string, string[]][] = [
      ["unknown key", { credentials: unknownKey }, "AWS_CREDENTIALS_INVALID", ["input", "credentials", "accessKeyId"]],
      ["wrong secret", { credentials: wrongSecret }, "AWS_CREDENTIALS_INVALID", ["input", "credentials", "secretAccessKey"]],
      ["empty key", { credentials: { mode: "ACCESS_KEY", accessKeyId: "", secretAccessKey: "" } }, "INVALID_INPUT", ["input", "credentials", "accessKeyId"]],
      ["missing bucket", { bucket: "no-such-bucket" }, "BUCKET_NOT_FOUND", ["input", "bucket"]],
      ["bucket in another region", { bucket: "dublin-bucket" }, "BUCKET_IN_OTHER_REGION", ["input", "bucket"]],
      ["invalid bucket name", { bucket: "Not_A_Bucket" }, "INVALID_INPUT", ["input", "bucket"]],
      ["unknown region", { region: "xx-nowhere-1" }, "REGION_INVALID", ["input", "region"]],
      ["unknown subnet", { subnetId: "subnet-0123456789abcdef0" }, "SUBNET_NOT_FOUND", ["input", "subnetId"]],
      ["subnet of another region", { subnetId: farSubnet.subnetId }, "SUBNET_NOT_IN_REGION", ["input", "subnetId"]],
      ["ListBuckets denied", { credentials: accessKey(bucketOnly) }, "AWS_ACCESS_DENIED", ["input", "bucket"]],
      ["bad name", { name: "Not A Name" }, "INVALID_INPUT", ["input", "name"]],
    ];
    for (const [label, input, code, field] of cases) {
      const response = await create(input);
      expect(response.errors, label).toBeUndefined();
      expect(response.data.createAwsBackend.backend, label).toBeNull();
      expect(response.data.createAwsBackend.userErrors, label).toContainEqual({ code, field, message: expect.any(String) });
    }
    expect(await backendCount(t.databaseUrl)).toBe(0);
    expect(await secretNames(moto.endpoint, "us-east-1", admin)).toEqual([]);
    expect(await secretNames(moto.endpoint, "eu-west-1", admin)).toEqual([]);
  });

  it("stores a CONFIGURED backend: key hint, sealed credentials in a tagged secret, and the same envelope in PostgreSQL", async () => {
    const subnet = await createSubnet(moto.endpoint, "us-east-1", { cidr: "10.4.0.0/16", name: "compute", admin });
    const backend = await createOk({ name: "primary", subnetId: subnet.subnetId });
    const secretName = `/dstack/${BUCKET}/credentials/${backend.id}`;
    expect(backend).toMatchObject({
      name: "primary",
      type: "AWS",
      status: "CONFIGURED",
      project: { id: projectId },
      aws: {
        region: "us-east-1",
        bucket: BUCKET,
        subnetId: subnet.subnetId,
        credentialsMode: "ACCESS_KEY",
        accessKeyIdHint: expectedHint(dstack.accessKeyId),
        accountId: ACCOUNT_ID,
        credentialsSecretName: secretName,
      },
    });
    expect(backend.aws.accessKeyIdHint).toMatch(/^AKIA…[A-Z0-9]{4}$/);

    const secret = await readSecret(moto.endpoint, "us-east-1", secretName, admin);
    expect(secret).not.toBeNull();
    expect(secret!.tags).toEqual({ owner: "dstack", dstack_bucket: BUCKET });
    expect(secret!.value).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+$/);
    expect(secret!.value).not.toContain(dstack.secretAccessKey);
    expect(secret!.value).not.toContain(dstack.accessKeyId);
    // The envelope holds exactly these credentials, bound to this backend.
    expect(openSealed(ENCRYPTION_KEYS, backend.id, secret!.value)).toEqual({ accessKeyId: dstack.accessKeyId, secretAccessKey: dstack.secretAccessKey });
    expect(() => openSealed(ENCRYPTION_KEYS, "00000000-0000-4000-8000-000000000000", secret!.value)).toThrow(/could not be opened/);

    const row = await backendRow(t.databaseUrl, backend.id);
    expect(row!.sealedCredentials).toBe(secret!.value);
    expect(row!.credentialsSecretName).toBe(secretName);

    // Readable the same way by id and through the project, to every member.
    expect((await viewer.client.ok(BACKEND, { id: backend.id })).backend).toEqual(backend);
    const listed = await owner.client.ok(PROJECT_BACKENDS, { id: projectId });
    expect(listed.project.backends.edges.map((e: any) => e.node)).toEqual([backend]);
  });

  it("a duplicate name is NAME_TAKEN, and the secret written for it is taken back", async () => {
    const first = await createOk({ name: "twin" });
    const second = await create({ name: "twin" });
    expect(second.data.createAwsBackend).toEqual({
      backend: null,
      userErrors: [{ code: "NAME_TAKEN", field: ["input", "name"], message: expect.stringContaining('"twin"') }],
    });
    expect(await secretNames(moto.endpoint, "us-east-1", admin)).toEqual([`/dstack/${BUCKET}/credentials/${first.id}`]);
    expect(await backendCount(t.databaseUrl)).toBe(1);
  });
});

describe("updateAwsBackend", () => {
  it("without credentials keeps the stored ones (and validates with them): same envelope, same secret version", async () => {
    const backend = await createOk({ name: "keep-me" });
    const before = await backendRow(t.databaseUrl, backend.id);
    const secretBefore = await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin);
    const subnet = await createSubnet(moto.endpoint, "us-east-1", { cidr: "10.6.0.0/16", admin });

    const updated = await update(backend.id, { name: "kept", subnetId: subnet.subnetId });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateAwsBackend.userErrors).toEqual([]);
    expect(updated.data.updateAwsBackend.backend).toMatchObject({
      name: "kept",
      aws: { subnetId: subnet.subnetId, accessKeyIdHint: backend.aws.accessKeyIdHint, credentialsSecretName: backend.aws.credentialsSecretName },
    });
    const after = await backendRow(t.databaseUrl, backend.id);
    expect(after!.sealedCredentials).toBe(before!.sealedCredentials);
    const secretAfter = await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin);
    expect(secretAfter).toEqual(secretBefore);

    // An empty subnet id goes back to the default VPC.
    const cleared = await update(backend.id, { subnetId: "" });
    expect(cleared.data.updateAwsBackend.backend.aws.subnetId).toBeNull();

    // The stored keys really are what validation uses: once AWS forgets them, the update is refused.
    const iam = iamClient(moto.endpoint, admin);
    await iam.send(new DeleteAccessKeyCommand({ UserName: "dstack", AccessKeyId: dstack.accessKeyId }));
    iam.destroy();
    const refused = await update(backend.id, { name: "renamed-again" });
    expect(refused.data.updateAwsBackend.backend).toBeNull();
    expect(refused.data.updateAwsBackend.userErrors).toContainEqual(expect.objectContaining({ code: "AWS_CREDENTIALS_INVALID" }));
    expect((await backendRow(t.databaseUrl, backend.id))!.name).toBe("kept");
  });

  it("with new keys re-validates: bad keys change nothing; good keys are re-sealed and put as a new secret value", async () => {
    const backend = await createOk();
    const secretName = backend.aws.credentialsSecretName;
    const rowBefore = await backendRow(t.databaseUrl, backend.id);
    const secretBefore = await readSecret(moto.endpoint, "us-east-1", secretName, admin);

    // Bad: a key AWS does not know, and a real key without access to the bucket.
    const noBucket = await createIamUser(moto.endpoint, {
      userName: "other-team",
      policy: policy([
        { Effect: "Allow", Action: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], Resource: "arn:aws:s3:::*" },
        { Effect: "Allow", Action: ["ec2:*", "secretsmanager:*"], Resource: "*" },
      ]),
      admin,
    });
    const unknown = await update(backend.id, {
      credentials: { mode: "ACCESS_KEY", accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(20).toString("hex") },
    });
    expect(unknown.data.updateAwsBackend.backend).toBeNull();
    expect(unknown.data.updateAwsBackend.userErrors.map((e: any) => e.code)).toContain("AWS_CREDENTIALS_INVALID");
    const denied = await update(backend.id, { credentials: accessKey(noBucket) });
    expect(denied.data.updateAwsBackend.backend).toBeNull();
    expect(denied.data.updateAwsBackend.userErrors).toEqual([expect.objectContaining({ code: "BUCKET_ACCESS_DENIED", field: ["input", "bucket"] })]);
    expect(await backendRow(t.databaseUrl, backend.id)).toEqual(rowBefore);
    expect(await readSecret(moto.endpoint, "us-east-1", secretName, admin)).toEqual(secretBefore);

    // Good: another user's keys.
    const rotated = await createIamUser(moto.endpoint, { userName: "dstack-2", policy: ALLOW_ALL, admin });
    const updated = await update(backend.id, { credentials: accessKey(rotated) });
    expect(updated.data.updateAwsBackend.userErrors).toEqual([]);
    expect(updated.data.updateAwsBackend.backend.aws).toMatchObject({ accessKeyIdHint: expectedHint(rotated.accessKeyId), credentialsSecretName: secretName });
    const rowAfter = await backendRow(t.databaseUrl, backend.id);
    expect(rowAfter!.sealedCredentials).not.toBe(rowBefore!.sealedCredentials);
    expect(rowAfter!.awsAccessKeyIdHint).toBe(expectedHint(rotated.accessKeyId));
    expect(openSealed(ENCRYPTION_KEYS, backend.id, rowAfter!.sealedCredentials!)).toEqual({ accessKeyId: rotated.accessKeyId, secretAccessKey: rotated.secretAccessKey });
    const secretAfter = await readSecret(moto.endpoint, "us-east-1", secretName, admin);
    expect(secretAfter!.value).toBe(rowAfter!.sealedCredentials);
    expect(secretAfter!.versionId).not.toBe(secretBefore!.versionId);
    expect(secretAfter!.previousValue).toBe(secretBefore!.value);
  });

  it("moving to another bucket moves the secret to that bucket's name", async () => {
    await createBucket(moto.endpoint, "next-bucket", "us-east-1", admin);
    const backend = await createOk();
    const moved = await update(backend.id, { bucket: "next-bucket" });
    expect(moved.data.updateAwsBackend.userErrors).toEqual([]);
    const newName = `/dstack/next-bucket/credentials/${backend.id}`;
    expect(moved.data.updateAwsBackend.backend.aws).toMatchObject({ bucket: "next-bucket", credentialsSecretName: newName });
    expect(await secretNames(moto.endpoint, "us-east-1", admin)).toEqual([newName]);
    const secret = await readSecret(moto.endpoint, "us-east-1", newName, admin);
    expect(secret!.tags).toEqual({ owner: "dstack", dstack_bucket: "next-bucket" });
    expect(secret!.value).toBe((await backendRow(t.databaseUrl, backend.id))!.sealedCredentials);
  });
});

describe("deleteBackend", () => {
  it("removes the secret and the row", async () => {
    const backend = await createOk();
    const keep = await createOk();
    const deleted = await owner.client.ok(DELETE, { id: backend.id });
    expect(deleted.deleteBackend).toEqual({ deletedBackendId: backend.id, userErrors: [] });
    expect(await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin)).toBeNull();
    expect(await secretNames(moto.endpoint, "us-east-1", admin)).toEqual([keep.aws.credentialsSecretName]);
    expect(await backendRow(t.databaseUrl, backend.id)).toBeUndefined();
    expect((await owner.client.ok(BACKEND, { id: backend.id })).backend).toBeNull();

    const again = await owner.client.ok(DELETE, { id: backend.id });
    expect(again.deleteBackend).toEqual({ deletedBackendId: null, userErrors: [{ code: "NOT_FOUND", field: ["id"], message: expect.any(String) }] });
  });
});

describe("who may change a backend", () => {
  it("a VIEWER and a USER member may read it but not create, update or delete (FORBIDDEN); nothing changes", async () => {
    const backend = await createOk({ name: "guarded" });
    const rowBefore = await backendRow(t.databaseUrl, backend.id);
    const secretBefore = await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin);
    for (const person of [viewer, member]) {
      expect((await person.client.ok(BACKEND, { id: backend.id })).backend.id, person.name).toBe(backend.id);
      const created = await create({ name: uniqueName("sneaky") }, person.client);
      expect(created.errors?.[0]?.extensions?.code, person.name).toBe("FORBIDDEN");
      const updated = await update(backend.id, { name: "hijacked", credentials: accessKey(dstack) }, person.client);
      expect(updated.errors?.[0]?.extensions?.code, person.name).toBe("FORBIDDEN");
      const deleted = await person.client.request(DELETE, { id: backend.id });
      expect(deleted.errors?.[0]?.extensions?.code, person.name).toBe("FORBIDDEN");
    }
    expect(await backendCount(t.databaseUrl)).toBe(1);
    expect(await backendRow(t.databaseUrl, backend.id)).toEqual(rowBefore);
    expect(await readSecret(moto.endpoint, "us-east-1", backend.aws.credentialsSecretName, admin)).toEqual(secretBefore);
  });

  it("a non-member cannot see it: backend is null, and create, update and delete answer NOT_FOUND", async () => {
    const backend = await createOk({ name: "hidden" });
    const client = outsider.client;
    expect((await client.ok(BACKEND, { id: backend.id })).backend).toBeNull();
    expect((await client.ok(PROJECT_BACKENDS, { id: projectId })).project).toBeNull();
    const created = await create({}, client);
    expect(created.data.createAwsBackend).toEqual({ backend: null, userErrors: [{ code: "NOT_FOUND", field: ["projectId"], message: expect.any(String) }] });
    const updated = await update(backend.id, { name: "mine-now" }, client);
    expect(updated.data.updateAwsBackend).toEqual({ backend: null, userErrors: [{ code: "NOT_FOUND", field: ["id"], message: expect.any(String) }] });
    const deleted = await client.ok(DELETE, { id: backend.id });
    expect(deleted.deleteBackend).toEqual({ deletedBackendId: null, userErrors: [{ code: "NOT_FOUND", field: ["id"], message: expect.any(String) }] });
    expect(await backendCount(t.databaseUrl)).toBe(1);
    expect((await backendRow(t.databaseUrl, backend.id))!.name).toBe("hidden");
    expect(await secretNames(moto.endpoint, "us-east-1", admin)).toEqual([backend.aws.credentialsSecretName]);
  });
});

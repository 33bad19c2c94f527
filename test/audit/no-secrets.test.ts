// No secret, and no raw input value, ever reaches the audit log: AWS credentials given to
// discovery, backend creation and updates (accepted and rejected), API tokens shown once, and a
// secret pasted where an id belongs. Every column of every row of the three audit tables is
// searched for each of them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE, DISCOVER, UPDATE, withDb } from "../backends/support.js";
import { createBucket, createIamUser, policy } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { auditRows, CREATE_PROJECT } from "./support.js";

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } token userErrors { code } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token userErrors { code } } }`;
const REVOKE_TOKEN = `mutation($id: ID!) { revokeApiToken(id: $id) { userErrors { code } } }`;
const SET_MEMBER = `mutation($projectId: ID!, $input: SetProjectMemberInput!) { setProjectMember(projectId: $projectId, input: $input) { userErrors { code } } }`;

/** Every audit table's rows, each as PostgreSQL's text form of the whole row. */
const auditTables = (databaseUrl: string) =>
  withDb(databaseUrl, async (db) => {
    const rows: string[] = [];
    for (const table of ["AuditEvent", "AuditPending", "AuditAnchor"]) {
      rows.push(...(await db.query(`SELECT t::text AS row FROM "${table}" t`)).rows.map((r) => r.row as string));
    }
    return rows;
  });

describe("the audit log holds no secret and no input value", () => {
  let moto: MotoServer;
  let t: TestServer;
  beforeAll(async () => {
    moto = await startMoto();
    await moto.reset();
    t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint });
  });
  afterAll(() => t?.close());

  it("after every mutation that carries one, accepted or refused", async () => {
    const bucket = "audit-secrets";
    await createBucket(moto.endpoint, bucket, "us-east-1");
    const first = await createIamUser(moto.endpoint, { userName: "first", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
    const second = await createIamUser(moto.endpoint, { userName: "second", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
    const credentials = (keys: { accessKeyId: string; secretAccessKey: string }) => ({ mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey });
    const wrongSecret = `${first.secretAccessKey.slice(0, -4)}WXYZ`;
    const projectValue = "a project description typed by a person";
    const secrets: string[] = [first.secretAccessKey, second.secretAccessKey, wrongSecret];
    const inputValues: string[] = [first.accessKeyId, second.accessKeyId, projectValue];

    const projectId = (await t.admin.ok(CREATE_PROJECT, { input: { name: "secret-keeping", description: projectValue } })).createProject.project.id;
    await moto.setIamEnforcement(true);
    try {
      const discovered = await t.admin.ok(DISCOVER, { input: { credentials: credentials(first) } });
      expect(discovered.discoverAwsBackend.identity.accountId).toBeTruthy();
      const created = await t.admin.ok(CREATE, { projectId, input: { region: "us-east-1", bucket, credentials: credentials(first) } });
      expect(created.createAwsBackend.userErrors).toEqual([]);
      const backendId = created.createAwsBackend.backend.id;
      const rejected = await t.admin.ok(UPDATE, { id: backendId, input: { credentials: credentials({ accessKeyId: first.accessKeyId, secretAccessKey: wrongSecret }) } });
      expect(rejected.updateAwsBackend.userErrors.length).toBeGreaterThan(0);
      const rotated = await t.admin.ok(UPDATE, { id: backendId, input: { credentials: credentials(second) } });
      expect(rotated.updateAwsBackend.userErrors).toEqual([]);
    } finally {
      await moto.setIamEnforcement(false);
    }

    const user = await t.admin.ok(CREATE_USER, { input: { name: "token-holder" } });
    const token = await t.admin.ok(CREATE_TOKEN, { input: { name: "shown-once" } });
    secrets.push(user.createUser.token, token.createApiToken.token, t.adminToken);
    // A secret pasted where an id belongs: refused, and not recorded either.
    const pasted = second.secretAccessKey;
    expect((await t.admin.ok(REVOKE_TOKEN, { id: pasted })).revokeApiToken.userErrors[0].code).toBe("NOT_FOUND");
    expect((await t.admin.ok(SET_MEMBER, { projectId, input: { userId: pasted, role: "VIEWER" } })).setProjectMember.userErrors[0].code).toBe("NOT_FOUND");

    // The mutations were recorded (the search below searches something)…
    const operations = (await auditRows(t.databaseUrl)).map((row) => `${row.operation}:${row.outcome}`);
    expect(operations).toEqual(
      expect.arrayContaining([
        "discoverAwsBackend:OK",
        "createAwsBackend:OK",
        "updateAwsBackend:USER_ERROR",
        "updateAwsBackend:OK",
        "createUser:OK",
        "createApiToken:OK",
        "revokeApiToken:USER_ERROR",
        "setProjectMember:USER_ERROR",
      ]),
    );
    // …and no column of any row holds a secret or an input value.
    const rows = await auditTables(t.databaseUrl);
    expect(rows.length).toBeGreaterThanOrEqual(operations.length);
    for (const value of [...secrets, ...inputValues]) {
      expect(rows.filter((row) => row.includes(value)), value.slice(0, 4)).toEqual([]);
    }
  });
});

// A known secret access key goes through every backend mutation (good and bad) and must then be
// nowhere: in no GraphQL response body, no log line, no column of any table, and no Secrets
// Manager value (those hold the sealed envelope).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { createAdminUser, createBucket, createIamUser, policy, type MotoUser } from "../support/moto-iam.js";
import {
  accessKey,
  allSecretValues,
  BACKEND,
  backendRow,
  CREATE,
  DISCOVER,
  dumpDatabase,
  newKeyMaterial,
  newProject,
  PROJECT_BACKENDS,
  UPDATE,
} from "./support.js";

const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);

let admin: MotoUser;
let dstack: MotoUser;

const moto = useMoto({ reset: "once" });
beforeAll(async () => {
  admin = await createAdminUser(moto.endpoint);
  dstack = await createIamUser(moto.endpoint, { userName: "dstack", policy: ALLOW_ALL });
  await createBucket(moto.endpoint, "leak-bucket", "us-east-1");
  await createBucket(moto.endpoint, "dublin-bucket", "eu-west-1");
  await moto.setIamEnforcement(true);
});
const t = useServer({ ENCRYPTION_KEYS: `k1:${newKeyMaterial()}` }, { aws: moto });

/** Every 12-character piece of `secret`: a truncated or partly masked copy is a leak too. */
function fragments(secret: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i++) pieces.push(secret.slice(i, i + 12));
  return pieces;
}

/** The secret in the forms it could be written in: as is, hex, base64 and base64url. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [...fragments(secret), bytes.toString("hex"), bytes.toString("base64").replace(/=+$/, ""), bytes.toString("base64url")];
}

function expectAbsent(haystack: string[], secret: string, where: string) {
  const forms = encodings(secret);
  const hits = haystack.filter((text) => forms.some((form) => text.includes(form)));
  expect(hits, `${where} contain the secret`).toEqual([]);
}

describe("a secret access key", () => {
  it("appears in no GraphQL response, no log line, no database column and no stored secret", async () => {
    const secret = dstack.secretAccessKey;
    const wrongSecret = randomBytes(30).toString("base64"); // 40 characters, like a real one
    expect(secret).toHaveLength(40);
    const bodies: string[] = [];
    const call = async (client: GraphQLClient, query: string, variables: Record<string, unknown>) => {
      const response = await client.request(query, variables);
      bodies.push(response.raw);
      expect(response.status, response.raw).toBe(200);
      expect(response.errors, response.raw).toBeUndefined();
      return response.data;
    };
    const right = accessKey(dstack);
    const wrong = { ...right, secretAccessKey: wrongSecret };
    const projectId = await newProject(t.admin, "leak-check");

    // Discovery: right keys, then a wrong secret.
    const found = await call(t.admin, DISCOVER, { input: { credentials: right, region: "us-east-1", bucket: "leak-bucket" } });
    expect(found.discoverAwsBackend.userErrors).toEqual([]);
    const refused = await call(t.admin, DISCOVER, { input: { credentials: wrong, region: "us-east-1", bucket: "leak-bucket" } });
    expect(refused.discoverAwsBackend.userErrors.map((e: any) => e.code)).toEqual(["AWS_CREDENTIALS_INVALID"]);

    // A failing create (bucket in another region), and one with the wrong secret.
    const failed = await call(t.admin, CREATE, { projectId, input: { name: "leaky", region: "us-east-1", bucket: "dublin-bucket", credentials: right } });
    expect(failed.createAwsBackend.userErrors.map((e: any) => e.code)).toEqual(["BUCKET_IN_OTHER_REGION"]);
    const failedWrong = await call(t.admin, CREATE, { projectId, input: { name: "leaky", region: "us-east-1", bucket: "leak-bucket", credentials: wrong } });
    expect(failedWrong.createAwsBackend.userErrors.map((e: any) => e.code)).toEqual(["AWS_CREDENTIALS_INVALID"]);

    // A create that works, then updates with the same keys, with none, and with a wrong secret.
    const created = await call(t.admin, CREATE, { projectId, input: { name: "leaky", region: "us-east-1", bucket: "leak-bucket", credentials: right } });
    expect(created.createAwsBackend.userErrors).toEqual([]);
    const id = created.createAwsBackend.backend.id;
    expect((await call(t.admin, UPDATE, { id, input: { name: "leaky-2", credentials: right } })).updateAwsBackend.userErrors).toEqual([]);
    expect((await call(t.admin, UPDATE, { id, input: { name: "leaky-3" } })).updateAwsBackend.userErrors).toEqual([]);
    const wrongUpdate = await call(t.admin, UPDATE, { id, input: { credentials: wrong } });
    expect(wrongUpdate.updateAwsBackend.userErrors.map((e: any) => e.code)).toEqual(["AWS_CREDENTIALS_INVALID"]);

    // Reading it back.
    await call(t.admin, BACKEND, { id });
    await call(t.admin, PROJECT_BACKENDS, { id: projectId });

    const envelope = (await backendRow(t.databaseUrl, id))!.sealedCredentials!;
    const hint = created.createAwsBackend.backend.aws.accessKeyIdHint;

    // Responses.
    expect(bodies).toHaveLength(10);
    expectAbsent(bodies, secret, "responses");
    expectAbsent(bodies, wrongSecret, "responses");
    expect(bodies.join("\n")).toContain(hint); // the search does see what the responses carry

    // Logs: one line per request at least, none with the secret.
    expect(t.logs.filter((line) => line.includes('"msg":"request"')).length).toBeGreaterThanOrEqual(bodies.length);
    expectAbsent(t.logs, secret, "log lines");
    expectAbsent(t.logs, wrongSecret, "log lines");

    // Every column of every table (PostgreSQL's text form of each whole row), pg-boss's included.
    const rows = await dumpDatabase(t.databaseUrl);
    expect(rows.some((row) => row.startsWith("public.Backend: ") && row.includes(envelope) && row.includes(hint))).toBe(true);
    expectAbsent(rows, secret, "database rows");
    expectAbsent(rows, wrongSecret, "database rows");

    // Secrets Manager holds the sealed envelope (and the one it replaced), never the plaintext.
    const values = await allSecretValues(moto.endpoint, ["us-east-1", "eu-west-1"], admin);
    expect(values).toContain(envelope);
    expectAbsent(values, secret, "Secrets Manager values");
  });
});

describe("a secret access key in input that fails GraphQL's own validation", () => {
  // graphql-js's variable-coercion errors quote the offending input object, secret included
  // ('Variable "$input" got invalid value { ..., secretAccessKey: "…" } …'); format-error.ts
  // drops the quoted value and keeps the path and the reason.
  it("is not echoed back in the error", async () => {
    const secret = randomBytes(30).toString("base64");
    const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret };
    const attempts = [
      t.admin.request(DISCOVER, { input: { credentials } }), // no mode
      t.admin.request(DISCOVER, { input: { credentials: { ...credentials, mode: "ACCESS_KEY", extra: true } } }), // unknown field
      t.admin.request(CREATE, { projectId: "00000000-0000-4000-8000-000000000000", input: { credentials: { ...credentials, mode: "ACCESS_KEY" } } }), // no region, bucket
      t.admin.request(DISCOVER, { input: { credentials: { ...credentials, mode: "SOMETHING" } } }), // bad enum
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.errors?.[0]?.extensions?.code, response.raw).toBe("BAD_USER_INPUT");
      expect(response.errors?.[0]?.message, response.raw).toMatch(/input/);
      expectAbsent([response.raw], secret, "validation errors");
    }
    expectAbsent(t.logs, secret, "log lines");
  });
});

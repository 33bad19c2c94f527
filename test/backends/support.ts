// Shared pieces of the backend tests: GraphQL documents, people and projects, the database row
// behind a backend, and Secrets Manager as an outside observer (read with moto admin keys).
import { randomBytes } from "node:crypto";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from "@aws-sdk/client-secrets-manager";
import pg from "pg";
import { expect } from "vitest";
import { parseEncryptionKeys } from "../../src/crypto/keyring.js";
import { openJson } from "../../src/crypto/sealing.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { secretsClient, type StaticKeys } from "../support/moto-iam.js";
import type { TestServer } from "../support/server.js";

export const ACCOUNT_ID = "123456789012";

export const BACKEND_FIELDS =
  "id name type status createdAt updatedAt project { id } aws { region bucket subnetId credentialsMode accessKeyIdHint accountId credentialsSecretName }";
export const USER_ERRORS = "userErrors { code field message }";
export const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) {
  defaultCredentialsAvailable identity { accountId arn } regions { code name } buckets { name region createdAt }
  subnets { id vpcId availabilityZone cidrBlock name isDefaultForAz mapsPublicIp public } ${USER_ERRORS} } }`;
export const CREATE = `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { ${BACKEND_FIELDS} } ${USER_ERRORS} } }`;
export const UPDATE = `mutation($id: ID!, $input: UpdateAwsBackendInput!) { updateAwsBackend(id: $id, input: $input) { backend { ${BACKEND_FIELDS} } ${USER_ERRORS} } }`;
export const DELETE = `mutation($id: ID!) { deleteBackend(id: $id) { deletedBackendId ${USER_ERRORS} } }`;
export const RESEAL = `mutation { resealCredentials { resealed unchanged ${USER_ERRORS} } }`;
export const BACKEND = `query($id: ID!) { backend(id: $id) { ${BACKEND_FIELDS} } }`;
export const PROJECT_BACKENDS = `query($id: ID) { project(id: $id) { id backends { edges { node { ${BACKEND_FIELDS} } } } } }`;
export const IAM_POLICY = `query($bucketName: String!) { awsIamPolicy(bucketName: $bucketName) { bucketName document json } }`;
export const REGIONS = "{ awsRegions { code name } }";

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id name } token ${USER_ERRORS} } }`;
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name } ${USER_ERRORS} } }`;
const SET_MEMBER = `mutation($projectId: ID!, $input: SetProjectMemberInput!) { setProjectMember(projectId: $projectId, input: $input) { project { id } ${USER_ERRORS} } }`;

export interface Person {
  id: string;
  name: string;
  client: GraphQLClient;
}

/** A global USER with a token of their own. */
export async function newUser(t: TestServer, name: string): Promise<Person> {
  const created = await t.admin.ok(CREATE_USER, { input: { name } });
  expect(created.createUser.userErrors).toEqual([]);
  return { id: created.createUser.user.id, name, client: t.client(created.createUser.token) };
}

export async function newProject(client: GraphQLClient, name: string): Promise<string> {
  const created = await client.ok(CREATE_PROJECT, { input: { name } });
  expect(created.createProject.userErrors).toEqual([]);
  return created.createProject.project.id;
}

export async function setMember(client: GraphQLClient, projectId: string, userId: string, role: "ADMIN" | "USER" | "VIEWER") {
  const result = await client.ok(SET_MEMBER, { projectId, input: { userId, role } });
  expect(result.setProjectMember.userErrors).toEqual([]);
}

export const accessKey = (keys: StaticKeys) => ({ mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey });

/** 32 random bytes in ENCRYPTION_KEYS' base64 form. */
export const newKeyMaterial = () => randomBytes(32).toString("base64");

/** What the service sealed, opened with the same ENCRYPTION_KEYS it was given. */
export function openSealed(encryptionKeys: string, backendId: string, envelope: string): { accessKeyId: string; secretAccessKey: string } {
  return openJson(parseEncryptionKeys(encryptionKeys), envelope, { purpose: "aws-credentials", id: backendId });
}

export const expectedHint = (accessKeyId: string) => `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;

// ---- the database, as an outside observer --------------------------------------------------

export async function withDb<T>(databaseUrl: string, run: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return await run(db);
  } finally {
    await db.end();
  }
}

export interface BackendRow {
  id: string;
  name: string;
  awsBucket: string;
  awsRegion: string;
  awsAccessKeyIdHint: string | null;
  credentialsSecretName: string | null;
  sealedCredentials: string | null;
  updatedAt: Date;
}

export function backendRow(databaseUrl: string, id: string): Promise<BackendRow | undefined> {
  return withDb(databaseUrl, async (db) => (await db.query(`SELECT * FROM "Backend" WHERE id = $1`, [id])).rows[0]);
}

export function backendCount(databaseUrl: string): Promise<number> {
  return withDb(databaseUrl, async (db) => Number((await db.query(`SELECT count(*) AS n FROM "Backend"`)).rows[0].n));
}

export function setSealed(databaseUrl: string, id: string, envelope: string | null): Promise<void> {
  return withDb(databaseUrl, async (db) => {
    const updated = await db.query(`UPDATE "Backend" SET "sealedCredentials" = $2 WHERE id = $1`, [id, envelope]);
    expect(updated.rowCount).toBe(1);
  });
}

/** Every row of every table in every non-system schema, each as PostgreSQL's text form of the whole row. */
export function dumpDatabase(databaseUrl: string): Promise<string[]> {
  return withDb(databaseUrl, async (db) => {
    const tables = await db.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%'`,
    );
    const rows: string[] = [];
    for (const { table_schema, table_name } of tables.rows) {
      const ident = `"${table_schema.replaceAll('"', '""')}"."${table_name.replaceAll('"', '""')}"`;
      const result = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${ident} t`);
      rows.push(...result.rows.map((r) => `${table_schema}.${table_name}: ${r.row}`));
    }
    return rows;
  });
}

/** Corrupts one character in the ciphertext part of an envelope (v1.<key>.<nonce>.<ciphertext>). */
export function tamper(envelope: string): string {
  const parts = envelope.split(".");
  const ciphertext = parts[3];
  const at = Math.floor(ciphertext.length / 2);
  const flipped = ciphertext[at] === "A" ? "B" : "A";
  parts[3] = ciphertext.slice(0, at) + flipped + ciphertext.slice(at + 1);
  const tampered = parts.join(".");
  expect(tampered).not.toBe(envelope);
  return tampered;
}

// ---- Secrets Manager, read with admin keys --------------------------------------------------

export interface SecretView {
  value: string;
  versionId: string;
  tags: Record<string, string>;
  previousValue: string | null;
}

/** The secret's current value, version and tags; null when it does not exist. */
export async function readSecret(endpoint: string, region: string, name: string, admin: StaticKeys): Promise<SecretView | null> {
  const client = secretsClient(endpoint, region, admin);
  try {
    const value = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    let previousValue: string | null = null;
    try {
      previousValue = (await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }))).SecretString ?? null;
    } catch {
      // no previous version
    }
    return {
      value: value.SecretString ?? "",
      versionId: value.VersionId ?? "",
      tags: Object.fromEntries((described.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
      previousValue,
    };
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return null;
    throw error;
  } finally {
    client.destroy();
  }
}

/** Names of all secrets in a region (including ones scheduled for deletion). */
export async function secretNames(endpoint: string, region: string, admin: StaticKeys): Promise<string[]> {
  const client = secretsClient(endpoint, region, admin);
  try {
    const listed = await client.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    return (listed.SecretList ?? []).map((secret) => secret.Name ?? "").sort();
  } finally {
    client.destroy();
  }
}

/** Every secret value (current and previous) in the given regions. */
export async function allSecretValues(endpoint: string, regions: string[], admin: StaticKeys): Promise<string[]> {
  const values: string[] = [];
  for (const region of regions) {
    for (const name of await secretNames(endpoint, region, admin)) {
      const secret = await readSecret(endpoint, region, name, admin);
      if (secret) values.push(secret.value, ...(secret.previousValue ? [secret.previousValue] : []));
    }
  }
  return values;
}

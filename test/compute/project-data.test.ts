// Project secrets, logs and artifacts through the real HTTP server and GraphQL, against moto_server.
// Secrets and logs run with moto's IAM enforcement ON: the server signs with an IAM user holding the
// seed policy's actions (on Resource "*": moto matches these services' calls against "*" only,
// moto.md §2.2), and the test looks at AWS with a separate moto-issued admin key. Artifacts run with
// enforcement off: moto re-signs S3 requests wrongly when a query value holds "/" (Prefix
// "artifacts/<id>/", and every presigned URL's X-Amz-Credential), moto.md §2.4; so moto cannot show
// that a presigned URL is bound to its key, only that the API hands out URLs for the project's keys.
import { randomBytes } from "node:crypto";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { createSeedBackend, seedPolicyForMoto, useMoto, useServer } from "../support/fixtures.js";
import { createAdminUser, s3Client, type MotoUser } from "../support/moto-iam.js";
import { dumpDatabase, newProject, newUser, setMember, type Person } from "../backends/support.js";

const REGION = "eu-west-1";
const BUCKET = "pd-bucket";
const ROLE_ARN = "arn:aws:iam::123456789012:role/dstack_role_pd_bucket";

const SECRETS = `query($projectId: ID!, $backendId: ID!) { projectSecrets(projectId: $projectId, backendId: $backendId) { name updatedAt } }`;
const SET_SECRET = `mutation($projectId: ID!, $backendId: ID!, $input: SetProjectSecretInput!) {
  setProjectSecret(projectId: $projectId, backendId: $backendId, input: $input) { secret { name updatedAt } userErrors { code field message } } }`;
const DELETE_SECRET = `mutation($projectId: ID!, $backendId: ID!, $name: String!) {
  deleteProjectSecret(projectId: $projectId, backendId: $backendId, name: $name) { deletedName userErrors { code field message } } }`;
const LOGS = `query($backendId: ID!, $group: LogGroupKind!, $streamPrefix: String, $since: DateTime, $until: DateTime, $first: Int, $after: String) {
  logEvents(backendId: $backendId, group: $group, streamPrefix: $streamPrefix, since: $since, until: $until, first: $first, after: $after) {
    edges { cursor node { timestamp stream message } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const ARTIFACTS = `query($backendId: ID!, $prefix: String, $first: Int, $after: String) {
  artifacts(backendId: $backendId, prefix: $prefix, first: $first, after: $after) {
    edges { cursor node { key size lastModified downloadUrl } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

const moto = useMoto({ reset: "once" });
const t = useServer({ INSTANCE_SYNC_SECONDS: "0" }, { aws: moto });
let admin: MotoUser;
let backendId: string;
let projectId: string;
let otherProjectId: string;
let projectAdmin: Person;
let viewer: Person;
/** Raw bodies of every GraphQL response in the secrets tests: the value must be in none of them. */
const responses: string[] = [];

function secretsClient() {
  return new SecretsManagerClient({ endpoint: moto.endpoint, region: REGION, credentials: admin, maxAttempts: 1 });
}
function logsClient() {
  return new CloudWatchLogsClient({ endpoint: moto.endpoint, region: REGION, credentials: admin, maxAttempts: 1 });
}

beforeAll(async () => {
  // The seed's actions, each on Resource "*" and without conditions: what moto can enforce.
  ({ backendId, projectId } = await createSeedBackend(t.admin, moto.endpoint, { bucket: BUCKET, region: REGION, policy: seedPolicyForMoto(BUCKET) }));
  otherProjectId = await newProject(t.admin, "pd-other-project");
  projectAdmin = await newUser(t, "pd-admin");
  viewer = await newUser(t, "pd-viewer");
  await setMember(t.admin, projectId, projectAdmin.id, "ADMIN");
  await setMember(t.admin, projectId, viewer.id, "VIEWER");
  admin = await createAdminUser(moto.endpoint);
  // From here on every AWS call must be allowed by IAM: the server's by the seed's policy.
  await moto.setIamEnforcement(true);
});

describe("project secrets", () => {
  const value = `hf_${randomBytes(24).toString("hex")}`;
  const secretId = () => `/dstack/${BUCKET}/secrets/${projectId}/HF_TOKEN`;

  async function call(client: Person["client"], query: string, variables: Record<string, unknown>) {
    const result = await client.request(query, variables);
    responses.push(result.raw);
    expect(result.errors).toBeUndefined();
    return result.data;
  }

  it("creates /dstack/<bucket>/secrets/<project id>/<name>, tagged, readable only by the instance role", async () => {
    const set = await call(projectAdmin.client, SET_SECRET, { projectId, backendId, input: { name: "HF_TOKEN", value } });
    expect(set.setProjectSecret.userErrors).toEqual([]);
    expect(set.setProjectSecret.secret).toEqual({ name: "HF_TOKEN", updatedAt: expect.any(String) });

    const sm = secretsClient();
    const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId() }));
    expect(described.Name).toBe(secretId());
    expect(Object.fromEntries((described.Tags ?? []).map((tag) => [tag.Key, tag.Value]))).toMatchObject({ owner: "dstack", dstack_bucket: BUCKET });
    // The value is stored as given (read with the admin key, never through the API).
    expect((await sm.send(new GetSecretValueCommand({ SecretId: secretId() }))).SecretString).toBe(value);
    const policy = JSON.parse((await sm.send(new GetResourcePolicyCommand({ SecretId: secretId() }))).ResourcePolicy ?? "{}");
    sm.destroy();
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Allow", Principal: { AWS: ROLE_ARN }, Action: "secretsmanager:GetSecretValue" }),
    ]);
  });

  it("lists names and dates only, to a VIEWER too; the value is in no field, response, row or log line", async () => {
    const listed = await call(viewer.client, SECRETS, { projectId, backendId });
    expect(listed.projectSecrets).toEqual([{ name: "HF_TOKEN", updatedAt: expect.any(String) }]);

    // No field could return it: ProjectSecret has a name and a date, nothing else.
    const introspected = await t.admin.ok(`{ s: __type(name: "ProjectSecret") { fields { name } } p: __type(name: "ProjectSecretPayload") { fields { name } } }`);
    expect(introspected.s.fields.map((f: { name: string }) => f.name).sort()).toEqual(["name", "updatedAt"]);
    expect(introspected.p.fields.map((f: { name: string }) => f.name).sort()).toEqual(["secret", "userErrors"]);

    // Replacing it: a new date, the new value in AWS, still not readable back.
    const before = listed.projectSecrets[0].updatedAt;
    const replaced = `${value}-v2`;
    const set = await call(projectAdmin.client, SET_SECRET, { projectId, backendId, input: { name: "HF_TOKEN", value: replaced } });
    expect(set.setProjectSecret.userErrors).toEqual([]);
    expect(new Date(set.setProjectSecret.secret.updatedAt).getTime()).toBeGreaterThan(new Date(before).getTime());
    const sm = secretsClient();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: secretId() }))).SecretString).toBe(replaced);
    sm.destroy();

    const everywhere = [...responses, ...t.logs, ...(await dumpDatabase(t.databaseUrl))];
    expect(everywhere.filter((text) => text.includes(value.slice(3, 27)))).toEqual([]);
  });

  it("refuses invalid names and values before any AWS call, and a backend of another project", async () => {
    for (const name of ["", "../escape", "a/b", ".hidden", "-dash", "with space", "x".repeat(129), "ünï"]) {
      const result = await call(projectAdmin.client, SET_SECRET, { projectId, backendId, input: { name, value: "v" } });
      expect(result.setProjectSecret, name).toEqual({ secret: null, userErrors: [expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "name"] })] });
    }
    const empty = await call(projectAdmin.client, SET_SECRET, { projectId, backendId, input: { name: "EMPTY", value: "" } });
    expect(empty.setProjectSecret.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "value"] })]);
    // The backend belongs to another project than the one named.
    const elsewhere = await call(t.admin, SET_SECRET, { projectId: otherProjectId, backendId, input: { name: "X", value: "v" } });
    expect(elsewhere.setProjectSecret.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["backendId"] })]);

    const sm = secretsClient();
    const names = ((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList ?? []).map((s) => s.Name);
    sm.destroy();
    expect(names.filter((name) => name?.includes("/secrets/"))).toEqual([secretId()]);
  });

  it("deletes it at once; deleting again is NOT_FOUND", async () => {
    const deleted = await call(projectAdmin.client, DELETE_SECRET, { projectId, backendId, name: "HF_TOKEN" });
    expect(deleted.deleteProjectSecret).toEqual({ deletedName: "HF_TOKEN", userErrors: [] });
    const sm = secretsClient();
    await expect(sm.send(new DescribeSecretCommand({ SecretId: secretId() }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    sm.destroy();
    expect((await call(viewer.client, SECRETS, { projectId, backendId })).projectSecrets).toEqual([]);
    const again = await call(projectAdmin.client, DELETE_SECRET, { projectId, backendId, name: "HF_TOKEN" });
    expect(again.deleteProjectSecret.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["name"] })]);
  });
});

describe("logs", () => {
  const group = `/dstack/jobs/${BUCKET}`;
  const start = Date.now() - 60 * 60_000;

  beforeAll(async () => {
    const logs = logsClient();
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    for (const [stream, count, offset] of [["run-1", 25, 0], ["other-9", 3, 500]] as const) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: stream,
          logEvents: Array.from({ length: count }, (_, i) => ({ timestamp: start + offset + i * 1000, message: `${stream} line ${i}` })),
        }),
      );
    }
    logs.destroy();
  });

  it("pages through 25 events 10 at a time with opaque cursors, oldest first", async () => {
    const pages: any[] = [];
    let after: string | null = null;
    do {
      const page: any = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "run-", first: 10, after })).logEvents;
      pages.push(page);
      after = page.pageInfo.endCursor;
    } while (after && pages.length < 10);
    expect(pages.map((page) => page.edges.length)).toEqual([10, 10, 5]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((page) => page.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    const events = pages.flatMap((page) => page.edges.map((edge: any) => edge.node));
    expect(events.map((event) => event.message)).toEqual(Array.from({ length: 25 }, (_, i) => `run-1 line ${i}`));
    expect(events[0]).toEqual({ timestamp: new Date(start).toISOString(), stream: "run-1", message: "run-1 line 0" });
    // CloudWatch resumes only at page boundaries: an edge's cursor continues after its page, and
    // after the last page there is nothing (not the first page again).
    const fromEdge = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "run-", first: 10, after: pages[0].edges[3].cursor })).logEvents;
    expect(fromEdge.edges[0].node.message).toBe("run-1 line 10");
    const afterLast = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "run-", first: 10, after: pages[2].edges[4].cursor })).logEvents;
    expect(afterLast).toEqual({ edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null } });

    // The cursor is not AWS's token: it is bound to the query it came from.
    const logs = logsClient();
    const direct = await logs.send(new FilterLogEventsCommand({ logGroupName: group, logStreamNamePrefix: "run-", limit: 10 }));
    logs.destroy();
    expect(direct.nextToken).toBeTruthy();
    const firstCursor = pages[0].pageInfo.endCursor as string;
    expect(firstCursor).not.toContain(direct.nextToken!);
    expect(firstCursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("keeps to the stream prefix and the time range", async () => {
    const other = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "other-" })).logEvents;
    expect(other.edges.map((edge: any) => edge.node.message)).toEqual(["other-9 line 0", "other-9 line 1", "other-9 line 2"]);
    const ranged = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "run-", since: new Date(start + 2000).toISOString(), until: new Date(start + 4000).toISOString() }))
      .logEvents;
    expect(ranged.edges.map((edge: any) => edge.node.message)).toEqual(["run-1 line 2", "run-1 line 3", "run-1 line 4"]);
  });

  it("refuses a cursor of another query (or none of ours) with BAD_USER_INPUT", async () => {
    const first = (await viewer.client.ok(LOGS, { backendId, group: "JOBS", streamPrefix: "run-", first: 10 })).logEvents;
    const cursor = first.pageInfo.endCursor as string;
    for (const variables of [
      { group: "JOBS", streamPrefix: "other-", first: 10, after: cursor },
      { group: "RUNNERS", streamPrefix: "run-", first: 10, after: cursor },
      { group: "JOBS", streamPrefix: "run-", since: new Date(start).toISOString(), first: 10, after: cursor },
      { group: "JOBS", streamPrefix: "run-", first: 10, after: "not-a-cursor" },
      { group: "JOBS", streamPrefix: "run-", first: 10, after: Buffer.from(JSON.stringify(["x", "y"])).toString("base64url") },
    ]) {
      const result = await viewer.client.request(LOGS, { backendId, ...variables });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe("BAD_USER_INPUT");
    }
    // first out of range
    expect(await viewer.client.errorCode(LOGS, { backendId, group: "JOBS", first: 0 })).toBe("BAD_USER_INPUT");
    expect(await viewer.client.errorCode(LOGS, { backendId, group: "JOBS", first: 101 })).toBe("BAD_USER_INPUT");
  });

  it("a group that does not exist yet is an empty page, not an error", async () => {
    const runners = await viewer.client.request(LOGS, { backendId, group: "RUNNERS" });
    expect(runners.errors).toBeUndefined();
    expect(runners.data.logEvents).toEqual({ edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });
});

describe("artifacts", () => {
  const body = (key: string) => `contents of ${key}`;

  beforeAll(async () => {
    await moto.setIamEnforcement(false); // see the header: moto's S3 signature check
    const s3 = s3Client(moto.endpoint, REGION, admin);
    for (const key of [
      `artifacts/${projectId}/model.bin`,
      `artifacts/${projectId}/run-1/metrics.json`,
      `artifacts/${projectId}/run-1/weights.pt`,
      `artifacts/${projectId}/run-2/log.txt`,
      `artifacts/${otherProjectId}/theirs.txt`,
      `artifacts/${projectId}x/sibling.txt`,
      "credentials/somewhere.txt",
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body(key) }));
    }
    s3.destroy();
  });

  it("lists only the project's own objects, each with a working presigned URL for that object", async () => {
    const { artifacts } = await viewer.client.ok(ARTIFACTS, { backendId });
    expect(artifacts.edges.map((edge: any) => edge.node.key)).toEqual(["model.bin", "run-1/metrics.json", "run-1/weights.pt", "run-2/log.txt"]);
    expect(artifacts.pageInfo.hasNextPage).toBe(false);
    for (const { node } of artifacts.edges) {
      const fullKey = `artifacts/${projectId}/${node.key}`;
      expect(node.size).toBe(Buffer.byteLength(body(fullKey)));
      const url = new URL(node.downloadUrl);
      expect(decodeURIComponent(url.pathname)).toBe(`/${BUCKET}/${fullKey}`);
      expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
      const download = await fetch(node.downloadUrl);
      expect(download.status).toBe(200);
      expect(await download.text()).toBe(body(fullKey));
    }
  });

  it("narrows by a relative prefix, and refuses prefixes that climb out", async () => {
    const runOne = (await viewer.client.ok(ARTIFACTS, { backendId, prefix: "run-1/" })).artifacts;
    expect(runOne.edges.map((edge: any) => edge.node.key)).toEqual(["run-1/metrics.json", "run-1/weights.pt"]);
    for (const prefix of ["../", `../${otherProjectId}/`, "run-1/../../", "/artifacts", "./run-1"]) {
      const result = await viewer.client.request(ARTIFACTS, { backendId, prefix });
      expect(result.errors?.[0]?.extensions?.code, prefix).toBe("BAD_USER_INPUT");
      expect(result.raw).not.toContain("theirs.txt");
    }
  });

  it("pages with cursors bound to the query; any edge's cursor continues after that edge", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: any = (await viewer.client.ok(ARTIFACTS, { backendId, first: 3, after })).artifacts;
      seen.push(...page.edges.map((edge: any) => edge.node.key));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toEqual(["model.bin", "run-1/metrics.json", "run-1/weights.pt", "run-2/log.txt"]);

    const first = (await viewer.client.ok(ARTIFACTS, { backendId, first: 3 })).artifacts;
    // Relay: `after` accepts the cursor of any edge, not only the page's end.
    const fromSecond = (await viewer.client.ok(ARTIFACTS, { backendId, first: 3, after: first.edges[0].cursor })).artifacts;
    expect(fromSecond.edges.map((edge: any) => edge.node.key)).toEqual(["run-1/metrics.json", "run-1/weights.pt", "run-2/log.txt"]);

    const result = await viewer.client.request(ARTIFACTS, { backendId, prefix: "run-1/", first: 3, after: first.pageInfo.endCursor });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

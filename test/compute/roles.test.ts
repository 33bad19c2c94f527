// The role matrix of every compute operation, through the real HTTP server and GraphQL: VIEWER reads
// offers, instances, logs, artifacts and secret names; USER also launches and terminates; ADMIN also
// manages secrets. Lacking the role is FORBIDDEN (and changes nothing); a non-member is told nothing
// exists: null, an empty list or page, or a NOT_FOUND userError. No token at all: UNAUTHENTICATED.
// (instanceUpdated for a member and a non-member: launch.test.ts.)
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { createSeedBackend, useMoto, useServer } from "../support/fixtures.js";
import { DUMMY_KEYS, ec2Client, logsClient, s3Client } from "../support/moto-iam.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { newUser, readSecret, setMember, type Person } from "../backends/support.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

const REGION = "eu-west-1";
const BUCKET = "roles-bucket";

const Q = {
  offers: `query($backendId: ID!) { instanceOffers(backendId: $backendId, filter: { minVcpus: 64 }) { instanceType } }`,
  instance: `query($id: ID!) { instance(id: $id) { id status } }`,
  instances: `query($backendId: ID!) { backend(id: $backendId) { instances(first: 50) { edges { node { id } } } } }`,
  logs: `query($backendId: ID!) { logEvents(backendId: $backendId, group: JOBS) { edges { node { message } } pageInfo { hasNextPage } } }`,
  artifacts: `query($backendId: ID!) { artifacts(backendId: $backendId) { edges { node { key downloadUrl } } } }`,
  secrets: `query($projectId: ID!, $backendId: ID!) { projectSecrets(projectId: $projectId, backendId: $backendId) { name } }`,
  launch: `mutation($backendId: ID!, $name: String!) { launchInstance(backendId: $backendId, input: { instanceType: "t3.micro", name: $name }) {
    instance { id awsInstanceId } userErrors { code field message } } }`,
  terminate: `mutation($id: ID!) { terminateInstance(id: $id) { instance { id status } userErrors { code field message } } }`,
  setSecret: `mutation($projectId: ID!, $backendId: ID!, $name: String!) { setProjectSecret(projectId: $projectId, backendId: $backendId, input: { name: $name, value: "v4lue" }) {
    secret { name } userErrors { code field message } } }`,
  deleteSecret: `mutation($projectId: ID!, $backendId: ID!, $name: String!) { deleteProjectSecret(projectId: $projectId, backendId: $backendId, name: $name) {
    deletedName userErrors { code field message } } }`,
};

type Role = "VIEWER" | "USER" | "ADMIN";

const moto = useMoto({ reset: "once" });
const t = useServer({ INSTANCE_SYNC_SECONDS: "0" }, { aws: moto });
let backendId: string;
let projectId: string;
let instanceId: string;
const people = {} as Record<Role | "OUTSIDER", Person>;

async function ec2States(): Promise<Record<string, string>> {
  const ec2 = ec2Client(moto.endpoint, REGION);
  const described = await ec2.send(new DescribeInstancesCommand({}));
  ec2.destroy();
  return Object.fromEntries((described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i.State?.Name]));
}

const secretExists = async (name: string) => (await readSecret(moto.endpoint, REGION, `/dstack/${BUCKET}/secrets/${projectId}/${name}`, DUMMY_KEYS)) !== null;

async function forbidden(client: GraphQLClient, query: string, variables: Record<string, unknown>) {
  const result = await client.request(query, variables);
  expect(result.errors?.map((e) => e.extensions?.code), query).toEqual(["FORBIDDEN"]);
  expect(result.data).toBeNull();
}

beforeAll(async () => {
  ({ backendId, projectId } = await createSeedBackend(t.admin, moto.endpoint, { bucket: BUCKET, region: REGION, input: { image: MOTO_CANONICAL_IMAGE } }));
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  for (const role of ["VIEWER", "USER", "ADMIN"] as const) {
    people[role] = await newUser(t, `roles-${role.toLowerCase()}`);
    await setMember(t.admin, projectId, people[role].id, role);
  }
  people.OUTSIDER = await newUser(t, "roles-outsider");

  // Something to read: an instance, a secret, a log line and an artifact.
  const launched = await t.admin.ok(Q.launch, { backendId, name: "seen-by-all" });
  instanceId = launched.launchInstance.instance.id;
  expect((await t.admin.ok(Q.setSecret, { projectId, backendId, name: "SHARED" })).setProjectSecret.userErrors).toEqual([]);
  const logs = logsClient(moto.endpoint, REGION);
  // Provisioning has created the group already.
  await logs.send(new CreateLogGroupCommand({ logGroupName: `/dstack/jobs/${BUCKET}` })).catch((error: { name?: string }) => {
    if (error.name !== "ResourceAlreadyExistsException") throw error;
  });
  await logs.send(new CreateLogStreamCommand({ logGroupName: `/dstack/jobs/${BUCKET}`, logStreamName: "job-1" }));
  await logs.send(new PutLogEventsCommand({ logGroupName: `/dstack/jobs/${BUCKET}`, logStreamName: "job-1", logEvents: [{ timestamp: Date.now() - 1000, message: "hello" }] }));
  logs.destroy();
  const s3 = s3Client(moto.endpoint, REGION);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `artifacts/${projectId}/out.txt`, Body: "out" }));
  s3.destroy();
});

describe("reads: every member role, and nothing for a non-member", () => {
  it.each(["VIEWER", "USER", "ADMIN"] as const)("%s reads offers, instances, logs, artifacts and secret names", async (role) => {
    const { client } = people[role];
    expect((await client.ok(Q.offers, { backendId })).instanceOffers.length).toBeGreaterThan(0);
    expect((await client.ok(Q.instance, { id: instanceId })).instance).toMatchObject({ id: instanceId });
    expect((await client.ok(Q.instances, { backendId })).backend.instances.edges.map((e: any) => e.node.id)).toContain(instanceId);
    expect((await client.ok(Q.logs, { backendId })).logEvents.edges.map((e: any) => e.node.message)).toEqual(["hello"]);
    expect((await client.ok(Q.artifacts, { backendId })).artifacts.edges.map((e: any) => e.node.key)).toEqual(["out.txt"]);
    expect((await client.ok(Q.secrets, { projectId, backendId })).projectSecrets).toEqual([{ name: "SHARED" }]);
  });

  it("a non-member sees nothing, as if nothing existed", async () => {
    const { client } = people.OUTSIDER;
    expect(await client.ok(Q.offers, { backendId })).toEqual({ instanceOffers: [] });
    expect(await client.ok(Q.instance, { id: instanceId })).toEqual({ instance: null });
    expect(await client.ok(Q.instances, { backendId })).toEqual({ backend: null });
    expect(await client.ok(Q.logs, { backendId })).toEqual({ logEvents: { edges: [], pageInfo: { hasNextPage: false } } });
    expect(await client.ok(Q.artifacts, { backendId })).toEqual({ artifacts: { edges: [] } });
    expect(await client.ok(Q.secrets, { projectId, backendId })).toEqual({ projectSecrets: [] });
  });

  it("without a token every compute operation is UNAUTHENTICATED", async () => {
    const anonymous = t.client();
    for (const [query, variables] of [
      [Q.offers, { backendId }],
      [Q.instance, { id: instanceId }],
      [Q.logs, { backendId }],
      [Q.artifacts, { backendId }],
      [Q.secrets, { projectId, backendId }],
      [Q.launch, { backendId, name: "anon" }],
      [Q.terminate, { id: instanceId }],
      [Q.setSecret, { projectId, backendId, name: "ANON" }],
      [Q.deleteSecret, { projectId, backendId, name: "SHARED" }],
    ] as const) {
      expect(await anonymous.errorCode(query, variables), query).toBe("UNAUTHENTICATED");
    }
  });
});

describe("launch and terminate: USER and ADMIN", () => {
  it("a VIEWER may neither launch nor terminate (FORBIDDEN, nothing changes)", async () => {
    const before = await ec2States();
    await forbidden(people.VIEWER.client, Q.launch, { backendId, name: "viewer-try" });
    await forbidden(people.VIEWER.client, Q.terminate, { id: instanceId });
    expect(await ec2States()).toEqual(before);
    expect((await t.admin.ok(Q.instances, { backendId })).backend.instances.edges).toHaveLength(1);
  });

  it("a non-member gets NOT_FOUND for launch and terminate, and nothing changes", async () => {
    const before = await ec2States();
    const launched = await people.OUTSIDER.client.ok(Q.launch, { backendId, name: "outsider-try" });
    expect(launched.launchInstance).toEqual({ instance: null, userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["backendId"] })] });
    const terminated = await people.OUTSIDER.client.ok(Q.terminate, { id: instanceId });
    expect(terminated.terminateInstance).toEqual({ instance: null, userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["id"] })] });
    expect(await ec2States()).toEqual(before);
  });

  it.each(["USER", "ADMIN"] as const)("a %s launches and terminates", async (role) => {
    const { client } = people[role];
    const launched = await client.ok(Q.launch, { backendId, name: `by-${role.toLowerCase()}` });
    expect(launched.launchInstance.userErrors).toEqual([]);
    const { id, awsInstanceId } = launched.launchInstance.instance;
    expect((await ec2States())[awsInstanceId]).toBe("running");
    const terminated = await client.ok(Q.terminate, { id });
    expect(terminated.terminateInstance.userErrors).toEqual([]);
    expect((await ec2States())[awsInstanceId]).toBe("terminated");
  });
});

describe("secrets: ADMIN only", () => {
  it.each(["VIEWER", "USER"] as const)("a %s may neither set nor delete a secret (FORBIDDEN, nothing changes)", async (role) => {
    const { client } = people[role];
    await forbidden(client, Q.setSecret, { projectId, backendId, name: `BY_${role}` });
    await forbidden(client, Q.deleteSecret, { projectId, backendId, name: "SHARED" });
    expect(await secretExists(`BY_${role}`)).toBe(false);
    expect(await secretExists("SHARED")).toBe(true);
  });

  it("a non-member gets NOT_FOUND and changes nothing", async () => {
    const { client } = people.OUTSIDER;
    expect((await client.ok(Q.setSecret, { projectId, backendId, name: "OUTSIDE" })).setProjectSecret).toEqual({
      secret: null,
      userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["backendId"] })],
    });
    expect((await client.ok(Q.deleteSecret, { projectId, backendId, name: "SHARED" })).deleteProjectSecret).toEqual({
      deletedName: null,
      userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["backendId"] })],
    });
    expect(await secretExists("OUTSIDE")).toBe(false);
    expect(await secretExists("SHARED")).toBe(true);
  });

  it("a project ADMIN sets and deletes", async () => {
    const { client } = people.ADMIN;
    expect((await client.ok(Q.setSecret, { projectId, backendId, name: "BY_ADMIN" })).setProjectSecret).toEqual({ secret: { name: "BY_ADMIN" }, userErrors: [] });
    expect(await secretExists("BY_ADMIN")).toBe(true);
    expect((await client.ok(Q.deleteSecret, { projectId, backendId, name: "BY_ADMIN" })).deleteProjectSecret).toEqual({ deletedName: "BY_ADMIN", userErrors: [] });
    expect(await secretExists("BY_ADMIN")).toBe(false);
  });
});

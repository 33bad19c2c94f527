// Server processes that die, and two that share a database. The server runs as a child process
// (server-process.mjs): SIGKILL gives it no chance to stop gracefully, so its run's job stays
// active. A server starting later sees that nobody holds the run's lock and hands the job out
// again at once; a server already running takes it over when the job expires
// (RUN_JOB_EXPIRE_SECONDS, found by pg-boss maintenance every JOB_MAINTENANCE_SECONDS).
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSeedBackend, useFaultProxy, useMoto } from "../support/fixtures.js";
import { createTestDatabase } from "../support/database.js";
import { sendTo } from "../support/fault-proxy.js";
import { GraphQLClient } from "../support/graphql-client.js";
import { iamClient } from "../support/moto-iam.js";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "../support/server.js";
import {
  attemptsOf,
  CallRecorder,
  counts,
  expectProvisionedOnce,
  FIRST_OPERATION,
  inventory,
  MUTATING,
  removeServerBundle,
  runFromDatabase,
  startServerProcess,
  STEP_NAMES,
  STEP_OPERATIONS,
  waitUntil,
  type ServerProcess,
} from "./harness.js";
import { PROVISION, TEARDOWN, waitForRun } from "./support.js";

const REGION = "eu-west-1";

const moto = useMoto();
const proxy = useFaultProxy(moto);
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(() => removeServerBundle());
afterEach(async () => {
  // Servers before their databases.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function database() {
  const created = await createTestDatabase();
  cleanups.push(() => created.drop());
  return created.url;
}

async function child(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({ AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "1000", ...env });
  cleanups.push(() => server.close());
  return server;
}

async function restartInProcess(databaseUrl: string, recorder: CallRecorder, env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, ...env }, databaseUrl, { awsMiddleware: recorder.middleware });
  cleanups.push(() => server.close());
  return server;
}

describe("a server process killed with SIGKILL in the middle of a run", () => {
  it("after step k: a server restarted on the database resumes the run at once, earlier steps not executed again", async () => {
    const k = 3; // security-group: policy, role and profile exist; the group does not yet
    const bucket = "killed-between-steps";
    const databaseUrl = await database();
    // Default RUN_JOB_EXPIRE_SECONDS (300): the restart must not wait for the job to expire.
    const doomed = await child({ DATABASE_URL: databaseUrl });
    const admin = new GraphQLClient(doomed.url, TEST_ADMIN_TOKEN);
    const { backendId } = await createSeedBackend(admin, moto.endpoint, { bucket, region: REGION });

    const operation = FIRST_OPERATION[STEP_NAMES[k]];
    proxy.addRule({ match: (r) => r.action === operation, fault: { kind: "timeout" }, times: 1 });
    const runId = (await admin.ok(PROVISION, { id: backendId })).provisionBackend.run.id as string;
    await waitUntil(`${operation} held`, () => proxy.requests.some((r) => r.action === operation && r.fault === "timeout"));
    await doomed.kill();

    const killed = await runFromDatabase(databaseUrl, runId);
    expect(killed.status).toBe("RUNNING");
    expect(killed.steps.map((s) => s.status)).toEqual(["DONE", "DONE", "DONE", "RUNNING", "PENDING", "PENDING"]);
    expect(counts(await inventory(moto.endpoint, REGION, bucket))).toMatchObject({ policies: 1, roles: 1, profiles: 1, securityGroups: 0 });

    const recorder = new CallRecorder();
    const restarted = Date.now();
    const survivor = await restartInProcess(databaseUrl, recorder, {});
    const run = await waitForRun(survivor.admin, runId, 30_000);
    expect(Date.now() - restarted).toBeLessThan(30_000); // not RUN_JOB_EXPIRE_SECONDS (300 s)
    expect(survivor.logs.some((line) => line.includes("resuming a run abandoned by a stopped process"))).toBe(true);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(attemptsOf(run)).toEqual({ "iam-policy": 1, "iam-role": 1, "instance-profile": 1, "security-group": 2, "log-groups": 1, "bucket-lifecycle": 1 });
    const operations = new Set(recorder.operations());
    for (const name of STEP_NAMES.slice(0, k)) for (const op of STEP_OPERATIONS[name]) expect(operations.has(op)).toBe(false);
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId });
  });

  it("while CreateRole is in flight (created in AWS, never recorded): another replica takes over when the job expires, adopts the role, and teardown removes it", async () => {
    const bucket = "killed-mid-create";
    const databaseUrl = await database();
    const expiry = { RUN_JOB_EXPIRE_SECONDS: "4", JOB_MAINTENANCE_SECONDS: "1" };
    const doomed = await child({ DATABASE_URL: databaseUrl, ...expiry });
    const admin = new GraphQLClient(doomed.url, TEST_ADMIN_TOKEN);
    const { backendId } = await createSeedBackend(admin, moto.endpoint, { bucket, region: REGION });

    proxy.addRule({ match: (r) => r.action === "CreateRole", fault: { kind: "timeout" }, times: 1 });
    const runId = (await admin.ok(PROVISION, { id: backendId })).provisionBackend.run.id as string;
    const held = await waitUntil("CreateRole held", () => proxy.requests.find((r) => r.action === "CreateRole"));
    // A second replica, up while the first is executing the run (so it leaves the run alone).
    const recorder = new CallRecorder();
    const survivor = await restartInProcess(databaseUrl, recorder, expiry);
    await doomed.kill();
    // The request reaches AWS after all (as a proxy or the network may deliver it late): moto
    // creates the role, and the answer goes nowhere.
    await sendTo(moto.endpoint, held);
    const iam = iamClient(moto.endpoint);
    await iam.send(new GetRoleCommand({ RoleName: "dstack_role_killed_mid_create" }));
    iam.destroy();
    expect((await runFromDatabase(databaseUrl, runId)).steps[1]).toMatchObject({ name: "iam-role", status: "RUNNING", attempts: 1 });

    const run = await waitForRun(survivor.admin, runId, 30_000);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    const roleStep = run.steps.find((s: any) => s.name === "iam-role");
    expect(roleStep.message).toContain("adopted");
    expect(roleStep.attempts).toBe(2);
    expect(recorder.operations()).not.toContain("CreateRole");
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId });

    // Adopted means recorded: teardown removes it with the rest.
    const teardown = await survivor.admin.ok(TEARDOWN, { id: backendId });
    const tornDown = await waitForRun(survivor.admin, teardown.teardownBackend.run.id);
    expect(tornDown.error).toBeNull();
    expect(counts(await inventory(moto.endpoint, REGION, bucket, { byTag: true }))).toEqual({
      policies: 0,
      roles: 0,
      profiles: 0,
      securityGroups: 0,
      logGroups: 0,
      ourLifecycleRules: 0,
    });
  });
});

describe("two server processes on one database", () => {
  it("execute one run once: each step one attempt, each resource created by one call", async () => {
    const bucket = "two-processes";
    const databaseUrl = await database();
    // Both start at once on an empty database (migrations and queue set-up take turns), both with
    // the worker on. Each run's job expires after 1 s while the run takes longer (every AWS call is
    // slowed down), so pg-boss hands the job out again while it is executing: the per-run lock
    // must keep the other process (and this one) from executing it a second time.
    const env = { DATABASE_URL: databaseUrl, RUN_JOB_EXPIRE_SECONDS: "1", JOB_MAINTENANCE_SECONDS: "1" };
    const [one, two] = await Promise.all([child(env), child(env)]);
    const clients = [one, two].map((server) => new GraphQLClient(server.url, TEST_ADMIN_TOKEN));
    const { backendId } = await createSeedBackend(clients[0], moto.endpoint, { bucket, region: REGION });
    one.calls.length = 0;
    two.calls.length = 0;

    proxy.addRule({ match: () => true, fault: { kind: "latency", ms: 250 } });
    const answers = await Promise.all([...clients, ...clients].map((client) => client.ok(PROVISION, { id: backendId })));
    const runIds = new Set(answers.map((a) => a.provisionBackend.run.id));
    expect(runIds.size).toBe(1);
    const runId = [...runIds][0] as string;
    const run = await waitForRun(clients[1], runId, 60_000);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.steps.map((s: any) => [s.name, s.status, s.attempts])).toEqual(STEP_NAMES.map((name) => [name, "DONE", 1]));

    const all = [...one.calls, ...two.calls];
    const mutating = all.map((c) => c.operation).filter((op) => MUTATING.test(op)).sort();
    expect(mutating).toEqual([
      "AddRoleToInstanceProfile",
      "AttachRolePolicy",
      "AuthorizeSecurityGroupIngress",
      "CreateInstanceProfile",
      "CreateLogGroup",
      "CreateLogGroup",
      "CreatePolicy",
      "CreateRole",
      "CreateSecurityGroup",
      "PutBucketLifecycleConfiguration",
    ]);
    // One process executed the run; the other was turned away by the run's lock at least once.
    const executors = [one, two].filter((server) => server.calls.some((c) => c.operation === "CreateRole"));
    expect(executors).toHaveLength(1);
    const deferred = [...one.logs, ...two.logs].filter((line) => line.includes("is being executed by another process"));
    expect(deferred.length).toBeGreaterThan(0);
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId });
  });
});

// Changes of one backend sent together, through the real server, moto and PostgreSQL, many times
// over. Every change (launch, terminate, provision, teardown, update, delete) is decided under the
// backend's lock, so whatever the interleaving:
// - no request answers with a GraphQL error (an INTERNAL_SERVER_ERROR from a foreign key or a
//   missing row): problems are userErrors with a code, NOT_FOUND once the backend is gone;
// - a delete never succeeds while a run or an instance of the backend is live;
// - no instance runs in EC2, and nothing provisioning creates exists, for a backend the database no
//   longer has.
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ec2Client } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import type { GraphQLResponse } from "../support/graphql-client.js";
import { counts, inventory, waitUntil } from "../provisioning/harness.js";
import { createSeedBackend, MOTO_CANONICAL_IMAGE, PROVISION, TEARDOWN, waitForRun } from "../provisioning/support.js";
import { withDb } from "./support.js";

const REGION = "us-east-1";
const ERRORS = "userErrors { code field message }";
const LAUNCH = `mutation($backendId: ID!) { launchInstance(backendId: $backendId, input: { instanceType: "t3.micro" }) { instance { id status } ${ERRORS} } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { id status } ${ERRORS} } }`;
const DELETE = `mutation($id: ID!, $teardown: Boolean) { deleteBackend(id: $id, teardown: $teardown) { deletedBackendId run { id } ${ERRORS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateAwsBackendInput!) { updateAwsBackend(id: $id, input: $input) { backend { id } ${ERRORS} } }`;
const BACKEND = `query($id: ID!) { backend(id: $id) { id status } }`;
const NOTHING = { policies: 0, roles: 0, profiles: 0, securityGroups: 0, logGroups: 0, ourLifecycleRules: 0 };
const ROUNDS = { launchesAndDelete: 8, launchesAndDeleteWithTeardown: 4, runsUpdateAndDelete: 6 };
/** When deleteBackend(teardown: true) follows the launches, by round (not a timing assertion). */
const DELETE_DELAYS_MS = [0, 60, 150, 300];
/** Many rounds per test: more time than one scenario needs on a busy machine (not a timing assertion). */
const ROUND_TIMEOUT_MS = 300_000;

let moto: MotoServer;
let t: TestServer;
let seq = 0;

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50", RATE_LIMIT_AWS_MUTATIONS: "100000" });
});
afterAll(() => t?.close());

/** The payload of a mutation answered without any GraphQL error (which is what a 500 would be). */
function payload(response: GraphQLResponse, field: string): { userErrors: { code: string; message: string }[]; [key: string]: any } {
  expect({ status: response.status, errors: response.errors }).toEqual({ status: 200, errors: undefined });
  const result = response.data[field];
  for (const error of result.userErrors) expect(error.code).toMatch(/^[A-Z_]+$/);
  return result;
}

async function newBackend(provisioned: boolean) {
  const bucket = `race-${process.pid % 1000}-${++seq}`;
  const { backendId } = await createSeedBackend(t.admin, moto.endpoint, bucket, REGION, { image: MOTO_CANONICAL_IMAGE });
  if (provisioned) {
    const run = await t.admin.ok(PROVISION, { id: backendId });
    expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  }
  return { bucket, backendId };
}

/** EC2 instances of the backend (by its dstack_backend tag) that are not terminated. */
async function runningInEc2(backendId: string): Promise<string[]> {
  const ec2 = ec2Client(moto.endpoint, REGION);
  const described = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:dstack_backend", Values: [backendId] }] }));
  ec2.destroy();
  return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== "terminated").map((i) => i.InstanceId!);
}

const backendExists = async (backendId: string) => (await t.admin.ok(BACKEND, { id: backendId })).backend !== null;
const liveRecords = (backendId: string) =>
  withDb(t.databaseUrl, async (db) => Number((await db.query(`SELECT count(*) AS n FROM "Instance" WHERE "backendId" = $1 AND status NOT IN ('TERMINATED', 'FAILED')`, [backendId])).rows[0].n));

/** Terminates what the round launched and lets the sync confirm it, so the next round starts clean. */
async function terminateAll(instanceIds: string[]) {
  for (const id of instanceIds) payload(await t.admin.request(TERMINATE, { id }), "terminateInstance");
  await t.server.syncInstances();
}

describe("changes of one backend sent together", () => {
  it(`three launchInstance and one deleteBackend, ${ROUNDS.launchesAndDelete} times: no error, the delete never wins over a live instance`, async () => {
    const { backendId } = await newBackend(true);
    for (let round = 0; round < ROUNDS.launchesAndDelete; round++) {
      const responses = await Promise.all([
        t.admin.request(LAUNCH, { backendId }),
        t.admin.request(DELETE, { id: backendId }),
        t.admin.request(LAUNCH, { backendId }),
        t.admin.request(LAUNCH, { backendId }),
      ]);
      const launches = [0, 2, 3].map((i) => payload(responses[i], "launchInstance"));
      const deleted = payload(responses[1], "deleteBackend");
      // Provisioned resources (and, depending on the order, the new instances) keep it.
      expect(deleted.deletedBackendId).toBeNull();
      expect(deleted.userErrors.map((e) => e.code)).toEqual(["BACKEND_BUSY"]);
      expect(launches.map((l) => l.userErrors)).toEqual([[], [], []]);
      expect(await backendExists(backendId)).toBe(true);
      await terminateAll(launches.map((l) => l.instance.id));
      expect(await liveRecords(backendId)).toBe(0);
    }
    expect(await runningInEc2(backendId)).toEqual([]);
  }, ROUND_TIMEOUT_MS);

  it(`three launchInstance and deleteBackend(teardown: true), ${ROUNDS.launchesAndDeleteWithTeardown} times: either the instances or the deletion, never both`, async () => {
    for (let round = 0; round < ROUNDS.launchesAndDeleteWithTeardown; round++) {
      const { bucket, backendId } = await newBackend(true);
      // A launch looks its image up in AWS before it takes the lock, so a deletion sent with it
      // always comes first: by turns it is sent a little later, to land in the launches' window too.
      const delay = DELETE_DELAYS_MS[round % DELETE_DELAYS_MS.length]!;
      const launching = [0, 1, 2].map(() => t.admin.request(LAUNCH, { backendId }));
      const deleting = new Promise((resolve) => setTimeout(resolve, delay)).then(() => t.admin.request(DELETE, { id: backendId, teardown: true }));
      const launches = (await Promise.all(launching)).map((response) => payload(response, "launchInstance"));
      const deleted = payload(await deleting, "deleteBackend");
      const launched = launches.filter((l) => l.instance).map((l) => l.instance.id as string);
      if (deleted.run) {
        // The teardown went first: every launch was refused, and the backend goes when it is done.
        expect(launched).toEqual([]);
        for (const l of launches) expect(l.userErrors.map((e) => e.code)).toEqual([expect.stringMatching(/^(BACKEND_BUSY|INVALID_INPUT|NOT_FOUND)$/)]);
        await waitUntil("the backend to be deleted", async () => !(await backendExists(backendId)), 60_000, 100);
        expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(NOTHING);
      } else {
        // A launch went first: the deletion is refused, nothing was torn down.
        expect(launched.length).toBeGreaterThan(0);
        expect(deleted.userErrors.map((e) => e.code)).toEqual(["BACKEND_BUSY"]);
        expect(await backendExists(backendId)).toBe(true);
        await terminateAll(launched);
      }
      expect(await runningInEc2(backendId)).toEqual([]);
    }
  }, ROUND_TIMEOUT_MS);

  it(`provisionBackend, teardownBackend, updateAwsBackend and deleteBackend on an unprovisioned backend, ${ROUNDS.runsUpdateAndDelete} times: the delete never wins over a run`, async () => {
    for (let round = 0; round < ROUNDS.runsUpdateAndDelete; round++) {
      const { bucket, backendId } = await newBackend(false);
      // The deletion is sent first or last, by turns.
      const others = [
        () => t.admin.request(PROVISION, { id: backendId }),
        () => t.admin.request(TEARDOWN, { id: backendId }),
        () => t.admin.request(UPDATE, { id: backendId, input: { name: `renamed-${seq}` } }),
      ];
      const sendDelete = () => t.admin.request(DELETE, { id: backendId });
      const [provision, teardown, update, deletion] =
        round % 2 === 0
          ? await Promise.all([...others.map((send) => send()), sendDelete()])
          : await (async () => {
              const deleting = sendDelete();
              const rest = await Promise.all(others.map((send) => send()));
              return [...rest, await deleting];
            })();
      const runs = [payload(provision, "provisionBackend"), payload(teardown, "teardownBackend")];
      const updated = payload(update, "updateAwsBackend");
      const deleted = payload(deletion, "deleteBackend");
      const started = runs.flatMap((r) => (r.run ? [r.run.id as string] : []));
      if (deleted.deletedBackendId) {
        // Deleted first: no run was started, and the runs found the backend gone or being deleted (the
        // update may have come before the deletion).
        expect(started).toEqual([]);
        for (const r of runs) expect(r.userErrors.map((e) => e.code)).toEqual([expect.stringMatching(/^(NOT_FOUND|BACKEND_BUSY)$/)]);
        expect(updated.userErrors.map((e) => e.code)).toEqual(updated.backend ? [] : [expect.stringMatching(/^(NOT_FOUND|BACKEND_BUSY)$/)]);
        expect(await backendExists(backendId)).toBe(false);
      } else {
        expect(deleted.userErrors.map((e) => e.code)).toEqual(["BACKEND_BUSY"]);
        expect(started.length).toBeGreaterThan(0);
        for (const runId of started) await waitForRun(t.admin, runId);
        expect(await backendExists(backendId)).toBe(true);
      }
      if (!(await backendExists(backendId))) expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(NOTHING);
    }
  }, ROUND_TIMEOUT_MS);
});

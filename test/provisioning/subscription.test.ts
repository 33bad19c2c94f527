// provisioningRunUpdated over graphql-ws: the subscriber is on an API-only replica
// (PROVISIONING_WORKER=false) and the run is executed by another server on the same database, so
// every update travels through PostgreSQL LISTEN/NOTIFY. The subscriber must see the run's
// current state first, then every transition in order, none missing.
import { createClient, type Client } from "graphql-ws";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createSeedBackend, useMoto, useServer } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { readRun, sleep, STEP_NAMES } from "./harness.js";
import { PROVISION } from "./support.js";

const REGION = "eu-west-1";
const SUBSCRIPTION = `subscription($id: ID!) { provisioningRunUpdated(id: $id) { id status steps { name status attempts } } }`;

interface Snapshot {
  id: string;
  status: string;
  steps: { name: string; status: string; attempts: number }[];
}

const moto = useMoto({ reset: "once" });
/** The subscribers' server: an API-only replica. */
const api = useServer({ PROVISIONING_WORKER: "false" }, { aws: moto });
let worker: TestServer | undefined;
const clients: Client[] = [];

function subscribe(server: TestServer, runId: string) {
  const client = createClient({
    url: server.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${server.adminToken}` },
    retryAttempts: 0,
  });
  clients.push(client);
  const received: Snapshot[] = [];
  const errors: unknown[] = [];
  const done = (async () => {
    for await (const result of client.iterate<{ provisioningRunUpdated: Snapshot }>({ query: SUBSCRIPTION, variables: { id: runId } })) {
      if (result.errors) errors.push(...result.errors);
      if (result.data) received.push(result.data.provisioningRunUpdated);
    }
  })();
  return { received, errors, done };
}

/** The transitions between consecutive snapshots, e.g. "run QUEUED→RUNNING", "iam-role PENDING→RUNNING". */
function transitions(snapshots: Snapshot[]): string[] {
  const found: string[] = [];
  for (let i = 1; i < snapshots.length; i++) {
    const [before, after] = [snapshots[i - 1], snapshots[i]];
    if (before.status !== after.status) found.push(`run ${before.status}→${after.status}`);
    after.steps.forEach((step, j) => {
      if (before.steps[j].status !== step.status) found.push(`${step.name} ${before.steps[j].status}→${step.status}`);
    });
  }
  return found;
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await worker?.close();
});

describe("provisioningRunUpdated", () => {
  it("delivers every step transition in order, across servers", async () => {
    const bucket = "live-updates";
    const { backendId } = await createSeedBackend(api.admin, moto.endpoint, { bucket, region: REGION });
    const started = await api.admin.ok(PROVISION, { id: backendId });
    const runId = started.provisionBackend.run.id as string;
    // No worker anywhere yet: the run waits.
    await sleep(700);
    expect((await readRun(api.admin, runId)).status).toBe("QUEUED");

    const subscription = subscribe(api, runId);
    for (let i = 0; subscription.received.length === 0 && i < 100; i++) await sleep(50);
    expect(subscription.received[0]).toMatchObject({ id: runId, status: "QUEUED" });
    expect(subscription.received[0].steps.every((s) => s.status === "PENDING" && s.attempts === 0)).toBe(true);

    // A replica with the worker on, on the same database, executes the run.
    worker = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint }, api.databaseUrl);
    await Promise.race([
      subscription.done,
      sleep(30_000).then(() => {
        throw new Error(`subscription did not complete: ${JSON.stringify(subscription.received.map((s) => s.status))}`);
      }),
    ]);

    expect(subscription.errors).toEqual([]);
    const snapshots = subscription.received;
    expect(snapshots.at(-1)!.status).toBe("SUCCEEDED");
    expect(transitions(snapshots)).toEqual([
      "run QUEUED→RUNNING",
      ...STEP_NAMES.flatMap((name) => [`${name} PENDING→RUNNING`, `${name} RUNNING→DONE`]),
      "run RUNNING→SUCCEEDED",
    ]);
    // Each snapshot is one transition (or one more attempt) after the one before: nothing skipped.
    for (let i = 1; i < snapshots.length; i++) expect(transitions([snapshots[i - 1], snapshots[i]]).length).toBeLessThanOrEqual(1);
    // The final state is what a query returns.
    const final = await readRun(api.admin, runId);
    expect(snapshots.at(-1)!.steps).toEqual(final.steps.map((s: any) => ({ name: s.name, status: s.status, attempts: s.attempts })));
  });
});

// Each event of a subscription is resolved with fresh data: `provisioningRunUpdated { backend {
// status } }` shows the backend as it is when the event goes out, not as it was when the
// subscription started (a subscription lasts far longer than a request, so nothing it reads may be
// cached for its lifetime). The subscriber is on an API-only replica; a worker replica on the same
// database executes the run.
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createBackend, sleep } from "./harness.js";
import { PROVISION } from "./support.js";

const SUBSCRIPTION = `subscription($id: ID!) { provisioningRunUpdated(id: $id) { status backend { status } } }`;

interface Event {
  status: string;
  backend: { status: string };
}

let moto: MotoServer;
let api: TestServer;
let worker: TestServer | undefined;
let client: Client | undefined;

beforeAll(async () => {
  moto = await startMoto();
  api = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, PROVISIONING_WORKER: "false" });
});
afterAll(async () => {
  await client?.dispose();
  await worker?.close();
  await api?.close();
});

describe("provisioningRunUpdated { backend { … } }", () => {
  it("each event carries the backend as it is then: PROVISIONING while the run waits, READY with the SUCCEEDED run", async () => {
    const bucket = "fresh-data";
    const { backendId } = await createBackend(api.admin, moto.endpoint, { bucket, region: "eu-west-1", policy: awsIamPolicyDocument(bucket) });
    const runId: string = (await api.admin.ok(PROVISION, { id: backendId })).provisionBackend.run.id;

    client = createClient({ url: api.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${api.adminToken}` }, retryAttempts: 0 });
    const events: Event[] = [];
    const errors: unknown[] = [];
    const done = (async () => {
      for await (const result of client!.iterate<{ provisioningRunUpdated: Event }>({ query: SUBSCRIPTION, variables: { id: runId } })) {
        if (result.errors) errors.push(...result.errors);
        if (result.data) events.push(result.data.provisioningRunUpdated);
      }
    })();
    for (let i = 0; events.length === 0 && i < 100; i++) await sleep(50);
    expect(events[0]).toEqual({ status: "QUEUED", backend: { status: "PROVISIONING" } });

    // A replica with the worker on executes the run.
    worker = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint }, api.databaseUrl);
    await Promise.race([done, sleep(30_000).then(() => Promise.reject(new Error(`no completion: ${JSON.stringify(events)}`)))]);

    expect(errors).toEqual([]);
    expect(events.at(-1)).toEqual({ status: "SUCCEEDED", backend: { status: "READY" } });
    expect((await api.admin.ok(`query($id: ID!) { backend(id: $id) { status } }`, { id: backendId })).backend.status).toBe("READY");
  });
});

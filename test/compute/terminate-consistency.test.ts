// terminateInstance when EC2 does not list an instance yet. EC2 is eventually consistent: a new
// instance may be missing from DescribeInstances for a while. moto always lists at once, so the
// fault proxy stands in for that delay by answering chosen DescribeInstances calls with an empty
// listing, while moto goes on running the instance. The rule checked: the record is TERMINATED
// only once EC2 reports the instance terminated, and until then it stays TERMINATING and is
// terminated (by id, as soon as the id is known) by terminateInstance and the sync.
import { DescribeInstancesCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from "../support/fault-proxy.js";
import { ec2Client } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { withDb } from "../backends/support.js";
import { createSeedBackend, MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

const REGION = "eu-west-1";
const BUCKET = "consistency-bucket";
const INSTANCE_FIELDS = "id status statusReason awsInstanceId terminatedAt";
const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const INSTANCE = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`;

/** DescribeInstances as EC2 answers it when it lists nothing (yet). */
const EMPTY_LISTING = {
  kind: "respond" as const,
  status: 200,
  headers: { "content-type": "text/xml" },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>not-listed-yet</requestId><reservationSet/></DescribeInstancesResponse>`,
};
const describing = (filter: string) => (request: ProxiedRequest) => request.action === "DescribeInstances" && request.body.includes(filter);

let moto: MotoServer;
let proxy: FaultProxy;
let t: TestServer;
let backendId: string;

async function ec2State(instanceId: string): Promise<string | undefined> {
  const ec2 = ec2Client(moto.endpoint, REGION);
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  ec2.destroy();
  return described.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

const instance = async (id: string) => (await t.admin.ok(INSTANCE, { id })).instance;
const terminateCalls = () => proxy.requests.filter((r) => r.action === "TerminateInstances" && r.fault === null);

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  proxy = await startFaultProxy(moto.endpoint);
  t = await startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50", LAUNCH_RETRY_SECONDS: "2" });
  ({ backendId } = await createSeedBackend(t.admin, moto.endpoint, BUCKET, REGION, { image: MOTO_CANONICAL_IMAGE }));
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
});
afterAll(async () => {
  await t?.close();
  await proxy?.stop();
});
beforeEach(() => {
  proxy.clearRules();
  proxy.clearRequests();
});

describe("terminating an instance EC2 does not list yet (fault proxy: DescribeInstances answers an empty listing)", () => {
  it("a launch whose answer was lost, not yet listed by its ClientToken: TERMINATING, never TERMINATED while it runs; terminated by id once EC2 lists it", async () => {
    // What a launch whose answer was lost leaves behind: a record without an instance id, and an
    // instance in EC2 carrying the record's ClientToken tag.
    const recordId = crypto.randomUUID();
    const ec2 = ec2Client(moto.endpoint, REGION);
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-785db401",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "dstack_bucket", Value: BUCKET }, { Key: "dstack_client_token", Value: `bh-${recordId}` }] }],
      }),
    );
    ec2.destroy();
    const ec2Id = launched.Instances![0].InstanceId!;
    await withDb(t.databaseUrl, (db) =>
      db.query(
        `INSERT INTO "Instance" (id, "backendId", name, "instanceType", market, region, status, "statusReason", "clientToken", "updatedAt")
         VALUES ($1, $2, 'answer-lost', 't3.micro', 'ON_DEMAND', $3, 'PENDING', 'Launch still in progress: timeout', $4, now())`,
        [recordId, backendId, REGION, `bh-${recordId}`],
      ),
    );

    proxy.addRule({ match: describing("dstack_client_token"), fault: EMPTY_LISTING });
    const terminated = (await t.admin.ok(TERMINATE, { id: recordId })).terminateInstance;
    expect(terminated.userErrors).toEqual([]);
    expect(terminated.instance).toMatchObject({ status: "TERMINATING", terminatedAt: null, awsInstanceId: null });
    expect(await ec2State(ec2Id)).toBe("running");

    // Still not listed: the sync keeps it TERMINATING (and does not give up on it).
    await t.server.syncInstances();
    expect(await instance(recordId)).toMatchObject({ status: "TERMINATING", terminatedAt: null });

    // EC2 lists it now: the sync finds it by its token and terminates it by id.
    proxy.clearRules();
    await t.server.syncInstances();
    expect(terminateCalls().map((r) => new URLSearchParams(r.body).get("InstanceId.1"))).toEqual([ec2Id]);
    expect(await ec2State(ec2Id)).toBe("terminated");
    expect(await instance(recordId)).toMatchObject({ awsInstanceId: ec2Id });
    await t.server.syncInstances();
    expect(await instance(recordId)).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String) });
  });

  it("an instance whose id the launch recorded, not yet listed by id: TerminateInstances is sent by id at once, and TERMINATED waits for EC2", async () => {
    const launched = (await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "just-launched" } })).launchInstance;
    expect(launched.userErrors).toEqual([]);
    const { id, awsInstanceId } = launched.instance;
    expect(awsInstanceId).toMatch(/^i-/);

    proxy.addRule({ match: describing(awsInstanceId), fault: EMPTY_LISTING });
    const terminated = (await t.admin.ok(TERMINATE, { id })).terminateInstance;
    expect(terminated.userErrors).toEqual([]);
    expect(terminated.instance).toMatchObject({ status: "TERMINATING", terminatedAt: null, awsInstanceId });
    expect(terminateCalls()).toHaveLength(1);
    expect(await ec2State(awsInstanceId)).toBe("terminated");

    proxy.clearRules();
    await t.server.syncInstances();
    expect(await instance(id)).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String) });
  });
});

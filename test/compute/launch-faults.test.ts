// Launches through the real HTTP server and GraphQL when EC2 misbehaves. Every AWS call of the
// server goes through the fault proxy (AWS_ENDPOINT_URL = proxy.endpoint) in front of moto_server,
// which has no timeouts, IAM propagation delays, capacity errors or refused instance types of its
// own (moto.md §3.2), and ignores ClientToken. So everything here is covered only with the proxy.
// The invariant checked throughout: one Instance record never has more than one EC2 instance, and
// every RunInstances for it carries the ClientToken bh-<record id>.
import { DescribeInstancesCommand, type Instance as Ec2Instance } from "@aws-sdk/client-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import { createSeedBackend, useFaultProxy, useMoto, useServer } from "../support/fixtures.js";
import { sendTo, type ProxiedRequest } from "../support/fault-proxy.js";
import { ec2Client } from "../support/moto-iam.js";
import { withDb } from "../backends/support.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

const REGION = "eu-west-1";
const BUCKET = "faults-bucket";
const INSTANCE_FIELDS = "id name status statusReason awsInstanceId spotRequestId terminatedAt";
const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const INSTANCE = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`;

const moto = useMoto({ reset: "once" });
const proxy = useFaultProxy(moto);
const t = useServer({ INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50", LAUNCH_RETRY_SECONDS: "2" }, { aws: proxy });
let backendId: string;

const tokenOf = (request: ProxiedRequest) => new URLSearchParams(request.body).get("ClientToken");
const runInstancesRequests = () => proxy.requests.filter((r) => r.action === "RunInstances");

function ec2Error(status: number, code: string, message: string) {
  return {
    kind: "respond" as const,
    status,
    headers: { "content-type": "text/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>fault</RequestID></Response>`,
  };
}
const IAM_NOT_READY = ec2Error(400, "InvalidParameterValue", "Value (dstack_role_faults_bucket) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name");

/** EC2 instances launched with this record's ClientToken (kept in the dstack_client_token tag). */
async function ec2InstancesOf(recordId: string): Promise<Ec2Instance[]> {
  const ec2 = ec2Client(moto.endpoint, REGION);
  const described = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:dstack_client_token", Values: [`bh-${recordId}`] }] }));
  ec2.destroy();
  return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const recordByName = (name: string) =>
  withDb(t.databaseUrl, async (db) => (await db.query(`SELECT id, "clientToken", status FROM "Instance" WHERE name = $1`, [name])).rows[0] as { id: string; clientToken: string; status: string } | undefined);

async function until<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  ({ backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket: BUCKET, region: REGION, input: { image: MOTO_CANONICAL_IMAGE } }));
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
});

describe("launching when EC2 misbehaves (fault proxy only)", () => {
  it("RunInstances' answer lost to a timeout: one instance, adopted by the sync through its token, or found and ended by terminate", async () => {
    // The first RunInstances of each token reaches EC2, but its answer is held until the SDK times
    // out (10 s); every later one of that token gets HTTP 500 (EC2 in trouble for a while), so the
    // launch gives up not knowing whether anything started.
    const forwarded = new Map<string, Promise<unknown>>();
    proxy.addRule({
      match: (request) => {
        const token = request.action === "RunInstances" ? tokenOf(request) : null;
        if (!token || forwarded.has(token)) return false;
        forwarded.set(token, sendTo(moto.endpoint, request));
        return true;
      },
      fault: { kind: "timeout" },
    });
    proxy.addRule({ match: (request) => request.action === "RunInstances" && forwarded.has(tokenOf(request) ?? ""), fault: { kind: "serverError" } });

    const [kept, dropped] = await Promise.all(["lost-kept", "lost-dropped"].map((name) => t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name } })));
    await Promise.all(forwarded.values());
    for (const result of [kept, dropped]) {
      const { instance, userErrors } = result.launchInstance;
      expect(userErrors).toEqual([expect.objectContaining({ code: "AWS_UNAVAILABLE", field: ["backendId"] })]);
      expect(instance).toMatchObject({ status: "PENDING", awsInstanceId: null, statusReason: expect.stringMatching(/^Launch still in progress: /) });
      expect(await ec2InstancesOf(instance.id)).toHaveLength(1); // EC2 did launch it
      // Every attempt (the SDK's and the service's) sent the record's token.
      const attempts = runInstancesRequests().filter((r) => tokenOf(r) === `bh-${instance.id}`);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.filter((r) => r.fault === null)).toEqual([]); // none but the first reached EC2
    }
    expect(forwarded.size).toBe(2);
    proxy.clearRules();

    // Terminated before the sync saw it: terminate looks the launch up by its token and ends it.
    const keptId = kept.launchInstance.instance.id;
    const droppedId = dropped.launchInstance.instance.id;
    const [droppedEc2] = await ec2InstancesOf(droppedId);
    const terminated = await t.admin.ok(TERMINATE, { id: droppedId });
    expect(terminated.terminateInstance).toEqual({
      userErrors: [],
      instance: expect.objectContaining({ status: "TERMINATING", awsInstanceId: droppedEc2.InstanceId }),
    });
    expect((await ec2InstancesOf(droppedId)).map((i) => i.State?.Name)).toEqual(["terminated"]);

    // The other one is adopted by the sync: its record gets the EC2 instance its token started.
    await t.server.syncInstances();
    const [keptEc2] = await ec2InstancesOf(keptId);
    expect((await t.admin.ok(INSTANCE, { id: keptId })).instance).toMatchObject({ awsInstanceId: keptEc2.InstanceId, statusReason: null });
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: keptId })).instance.status).toBe("RUNNING");
    expect((await t.admin.ok(INSTANCE, { id: droppedId })).instance.status).toBe("TERMINATED");
    expect(await ec2InstancesOf(keptId)).toHaveLength(1);
    expect(await ec2InstancesOf(droppedId)).toHaveLength(1);
    expect(runInstancesRequests().filter((r) => r.fault === null)).toEqual([]);
  });

  it("the connection drops after EC2 launched: the service's retry finds the instance by its token, no second launch", async () => {
    let firstToken: string | null = null;
    let launchedAtEc2: Promise<unknown> | null = null;
    proxy.addRule({
      match: (request) => {
        if (request.action !== "RunInstances" || firstToken) return false;
        firstToken = tokenOf(request);
        launchedAtEc2 = sendTo(moto.endpoint, request);
        return true;
      },
      fault: { kind: "reset" },
    });
    proxy.addRule({ match: (request) => request.action === "RunInstances" && tokenOf(request) === firstToken, fault: { kind: "serverError" } });

    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "reset-once" } });
    await launchedAtEc2;
    const { instance, userErrors } = result.launchInstance;
    expect(userErrors).toEqual([]);
    expect(firstToken).toBe(`bh-${instance.id}`);
    const ec2 = await ec2InstancesOf(instance.id);
    expect(ec2).toHaveLength(1);
    expect(instance).toMatchObject({ status: "PENDING", awsInstanceId: ec2[0].InstanceId });
    // The service looked the token up (DescribeInstances by tag) instead of launching again.
    expect(proxy.requests.some((r) => r.action === "DescribeInstances" && r.body.includes("dstack_client_token") && r.fault === null)).toBe(true);
    expect(runInstancesRequests().filter((r) => r.fault === null)).toEqual([]);
  });

  it("IAM propagation refused twice, then success: retried with the same token, one instance", async () => {
    proxy.addRule({ match: (request) => request.action === "RunInstances", fault: IAM_NOT_READY, times: 2 });
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", market: "SPOT", name: "iam-late" } });
    const { instance, userErrors } = result.launchInstance;
    expect(userErrors).toEqual([]);
    const attempts = runInstancesRequests();
    expect(attempts.map((r) => r.fault)).toEqual(["respond", "respond", null]);
    expect(new Set(attempts.map(tokenOf))).toEqual(new Set([`bh-${instance.id}`]));
    const ec2 = await ec2InstancesOf(instance.id);
    expect(ec2).toHaveLength(1);
    expect(instance).toMatchObject({ status: "PENDING", awsInstanceId: ec2[0].InstanceId, statusReason: null });
  });

  it("IAM propagation beyond the bound: no instance; the record says why and can be terminated", async () => {
    proxy.addRule({ match: (request) => request.action === "RunInstances", fault: IAM_NOT_READY });
    const started = Date.now();
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "iam-never" } });
    expect(Date.now() - started).toBeLessThan(8_000); // LAUNCH_RETRY_SECONDS=2 bounds it
    const { instance, userErrors } = result.launchInstance;
    expect(userErrors).toEqual([{ code: "AWS_UNAVAILABLE", field: ["backendId"], message: expect.stringContaining("IAM instance profile") }]);
    expect(instance).toMatchObject({ status: "PENDING", awsInstanceId: null, statusReason: expect.stringContaining("IAM instance profile") });
    const attempts = runInstancesRequests();
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(attempts.map(tokenOf))).toEqual(new Set([`bh-${instance.id}`]));
    expect(await ec2InstancesOf(instance.id)).toEqual([]);
    proxy.clearRules();
    // EC2 lists no instance for the token, but it may just not list it yet: TERMINATING, not TERMINATED.
    const terminated = await t.admin.ok(TERMINATE, { id: instance.id });
    expect(terminated.terminateInstance).toMatchObject({
      userErrors: [],
      instance: { status: "TERMINATING", terminatedAt: null, statusReason: expect.stringContaining("EC2 does not list an instance for this launch yet") },
    });
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.status).toBe("TERMINATING");
    // Long after the launch, EC2 still lists nothing for the token: nothing was started, the record ends.
    await withDb(t.databaseUrl, (db) => db.query(`UPDATE "Instance" SET "createdAt" = now() - interval '11 minutes' WHERE id = $1`, [instance.id]));
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String) });
    expect(await ec2InstancesOf(instance.id)).toEqual([]);
  });

  it("no capacity: status NO_CAPACITY with AWS's reason, and a userError", async () => {
    const reason = "We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (eu-west-1a).";
    proxy.addRule({ match: (request) => request.action === "RunInstances", fault: ec2Error(500, "InsufficientInstanceCapacity", reason) });
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "no-room" } });
    const { instance, userErrors } = result.launchInstance;
    expect(userErrors).toEqual([{ code: "NO_CAPACITY", field: ["backendId"], message: `InsufficientInstanceCapacity: ${reason}` }]);
    expect(instance).toMatchObject({ status: "NO_CAPACITY", statusReason: `InsufficientInstanceCapacity: ${reason}`, awsInstanceId: null });
    expect(await ec2InstancesOf(instance.id)).toEqual([]);
  });

  it("an instance type EC2 refuses: INSTANCE_TYPE_UNAVAILABLE on the field, and no record kept", async () => {
    proxy.addRule({ match: (request) => request.action === "RunInstances", fault: ec2Error(400, "InvalidParameterValue", "Invalid value 'x9.huge' for InstanceType.") });
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "x9.huge", name: "no-such-type" } });
    expect(result.launchInstance).toEqual({
      instance: null,
      userErrors: [{ code: "INSTANCE_TYPE_UNAVAILABLE", field: ["input", "instanceType"], message: "InvalidParameterValue: Invalid value 'x9.huge' for InstanceType." }],
    });
    expect(runInstancesRequests()).toHaveLength(1); // written before RunInstances, removed after
    expect(await recordByName("no-such-type")).toBeUndefined();
  });

  it("terminated while RunInstances is still on its way: the instance EC2 then starts is terminated too", async () => {
    proxy.addRule({ match: (request) => request.action === "RunInstances", fault: { kind: "latency", ms: 1_500 } });
    const launching = t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "raced" } });
    await until(() => runInstancesRequests().length > 0, "RunInstances at the proxy");
    const record = (await recordByName("raced"))!;
    // Nothing to find by the token yet: TERMINATING (never TERMINATED before EC2 says so).
    const terminated = await t.admin.ok(TERMINATE, { id: record.id });
    expect(terminated.terminateInstance).toMatchObject({ userErrors: [], instance: { status: "TERMINATING", awsInstanceId: null, terminatedAt: null } });

    const { launchInstance } = await launching;
    const ec2 = await ec2InstancesOf(record.id);
    expect(ec2.map((i) => i.State?.Name)).toEqual(["terminated"]);
    expect(launchInstance).toEqual({
      userErrors: [],
      instance: expect.objectContaining({ id: record.id, status: "TERMINATING", awsInstanceId: ec2[0].InstanceId }),
    });
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: record.id })).instance).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String) });
  });
});

// The reconciler and EC2's instances, through the real server, GraphQL, moto and PostgreSQL:
// an instance tagged for the backend that no record knows is terminated once it is older than
// ORPHAN_GRACE_SECONDS (and not before), and the finding says so; an instance terminated behind
// the service's back is marked TERMINATED, whether the reconciler or the instance sync sees it first.
import { TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ec2Client } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { waitUntil } from "../provisioning/harness.js";
import { backendState, ec2State, INSTANCE, launch, provisionedBackend, reconcile, runTaggedInstance } from "./support.js";

const REGION = "eu-west-1";
let moto: MotoServer;
let seq = 0;

beforeAll(async () => {
  moto = await startMoto();
});

async function terminateInMoto(instanceId: string) {
  const ec2 = ec2Client(moto.endpoint, REGION);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  ec2.destroy();
}

const GRACE_SECONDS = 20;
const LAUNCH_TIME_RESOLUTION_MS = 1000;

describe(`orphans (RECONCILE_SECONDS=1, ORPHAN_GRACE_SECONDS=${GRACE_SECONDS})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "1", ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS) });
  });
  afterAll(() => t?.close());
  beforeEach(() => moto.reset());

  it("terminates an instance tagged for the backend that no record knows once past the grace period, shows the finding, and leaves tracked and other instances alone", { timeout: 180_000 }, async () => {
    const bucket = `orphan-${process.pid % 1000}-${++seq}`;
    const { backendId, projectId } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION);
    const tracked = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(tracked.userErrors).toEqual([]);
    const startedAt = Date.now();
    const orphan = await runTaggedInstance(moto.endpoint, REGION, { owner: "dstack", dstack_bucket: bucket, dstack_backend: backendId, dstack_project: projectId });
    const olderLaunch = await runTaggedInstance(moto.endpoint, REGION, { owner: "dstack", dstack_bucket: bucket }); // before the dstack_backend tag
    const untagged = await runTaggedInstance(moto.endpoint, REGION, { Name: "someone-elses" });
    const otherBackend = await runTaggedInstance(moto.endpoint, REGION, { dstack_bucket: bucket, dstack_backend: "00000000-0000-4000-8000-000000000000" });

    // Within the grace period it may be a launch in flight: left running, nothing reported.
    const early = await reconcile(t.admin, backendId);
    expect(Date.now() - startedAt, "the early pass must run within the grace period").toBeLessThan(GRACE_SECONDS * 1000);
    expect(early.status).toBe("READY");
    expect(await ec2State(moto.endpoint, REGION, orphan)).toBe("running");
    expect((await backendState(t.admin, backendId)).findings.filter((f) => f.kind === "ORPHAN_INSTANCE")).toEqual([]);

    // The periodic pass ends both once they are older than the grace period.
    const orphansEnded = async () => (await ec2State(moto.endpoint, REGION, orphan)) === "terminated" && (await ec2State(moto.endpoint, REGION, olderLaunch)) === "terminated";
    await waitUntil("the orphans terminated", orphansEnded, (GRACE_SECONDS + 30) * 1000, 250);
    // Not before the grace period: counted from LaunchTime, which EC2 (and moto) give to the second,
    // rounded down, so the server may see an instance up to a second older than it is.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - LAUNCH_TIME_RESOLUTION_MS);
    const { status, findings, lastReconciledAt } = await backendState(t.admin, backendId);
    expect(status).toBe("READY");
    expect(lastReconciledAt).not.toBeNull();
    expect(findings.every((f) => f.kind === "ORPHAN_INSTANCE")).toBe(true);
    expect(findings.map((f) => f.resourceId).sort()).toEqual([orphan, olderLaunch].sort());
    for (const finding of findings) {
      expect(finding).toMatchObject({ action: "TERMINATED", resourceType: "ec2:instance" });
      expect(finding.message).toMatch(new RegExp(`no record of this service launched it; terminated after the grace period of ${GRACE_SECONDS} s`));
    }
    // The tracked instance (older than the grace period too), the untagged one and another backend's run on.
    expect(await ec2State(moto.endpoint, REGION, tracked.instance.awsInstanceId)).toBe("running");
    expect(await ec2State(moto.endpoint, REGION, untagged)).toBe("running");
    expect(await ec2State(moto.endpoint, REGION, otherBackend)).toBe("running");
    // Newest first.
    const times = findings.map((f) => Date.parse(f.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});

describe("instances gone from EC2 (reconciler on demand only)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" });
  });
  afterAll(() => t?.close());
  beforeEach(() => moto.reset());

  it("marks a record TERMINATED when its instance was terminated directly in EC2, with the reason and an INSTANCE_GONE finding", async () => {
    const bucket = `gone-${process.pid % 1000}-${++seq}`;
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION);
    const { instance } = await launch(t.admin, backendId, { instanceType: "t3.micro", name: "goner" });
    await terminateInMoto(instance.awsInstanceId);

    await reconcile(t.admin, backendId);
    const after = (await t.admin.ok(INSTANCE, { id: instance.id })).instance;
    expect(after).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String), statusReason: expect.stringMatching(/\S/) });
    const { findings, status } = await backendState(t.admin, backendId);
    expect(status).toBe("READY");
    expect(findings).toEqual([
      expect.objectContaining({ kind: "INSTANCE_GONE", action: "MARKED_TERMINATED", resourceType: "ec2:instance", resourceId: instance.awsInstanceId, message: expect.stringContaining("goner") }),
    ]);
    // A second pass finds nothing new.
    await reconcile(t.admin, backendId);
    expect((await backendState(t.admin, backendId)).findings).toHaveLength(1);
  });

  it("records the same finding once when the instance sync notices first", async () => {
    const bucket = `sync-gone-${process.pid % 1000}-${++seq}`;
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION);
    const { instance } = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.status).toBe("RUNNING");
    await terminateInMoto(instance.awsInstanceId);

    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.status).toBe("TERMINATED");
    await reconcile(t.admin, backendId);
    const { findings } = await backendState(t.admin, backendId);
    expect(findings).toEqual([expect.objectContaining({ kind: "INSTANCE_GONE", action: "MARKED_TERMINATED", resourceId: instance.awsInstanceId })]);
  });

  it("does not record an instance the service terminated itself as gone", async () => {
    const bucket = `own-${process.pid % 1000}-${++seq}`;
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION);
    const { instance } = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    const ended = await t.admin.ok(`mutation($id: ID!) { terminateInstance(id: $id) { userErrors { code } } }`, { id: instance.id });
    expect(ended.terminateInstance.userErrors).toEqual([]);
    await t.server.syncInstances();
    await reconcile(t.admin, backendId);
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.status).toBe("TERMINATED");
    expect((await backendState(t.admin, backendId)).findings).toEqual([]);
  });
});

// The instance sync when one backend fails: the failure is logged with that backend's id, and the
// other backends are synced in the same round. Through the real server (its sync round and its
// log), moto, and the fault proxy for AWS failures.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { backendRow, setSealed, tamper, withDb } from "../backends/support.js";
import { createSeedBackend, MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

const REGION = "eu-west-1";
const LAUNCH = `mutation($backendId: ID!, $name: String) { launchInstance(backendId: $backendId, input: { instanceType: "t3.micro", name: $name }) {
  instance { id awsInstanceId } userErrors { code field message } } }`;
const INSTANCE = `query($id: ID!) { instance(id: $id) { id status } }`;

let moto: MotoServer;
let proxy: FaultProxy;
let t: TestServer;
/** `failing` has the smaller backend id, so a round that goes backend by backend meets it first. */
let failing: { backendId: string; instanceId: string; ec2Id: string };
let healthy: { backendId: string; instanceId: string };

async function readyBackend(bucket: string): Promise<string> {
  const { backendId } = await createSeedBackend(t.admin, moto.endpoint, bucket, REGION, { image: MOTO_CANONICAL_IMAGE });
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  return backendId;
}

async function launch(backendId: string, name: string) {
  const launched = (await t.admin.ok(LAUNCH, { backendId, name })).launchInstance;
  expect(launched.userErrors).toEqual([]);
  return launched.instance as { id: string; awsInstanceId: string };
}

const status = async (id: string) => (await t.admin.ok(INSTANCE, { id })).instance.status as string;
const setStatus = (id: string, value: string) => withDb(t.databaseUrl, (db) => db.query(`UPDATE "Instance" SET status = $2 WHERE id = $1`, [id, value]));
/** Log lines of the instance sync that name the backend. */
const syncLogsOf = (backendId: string) => t.logs.filter((line) => line.includes("instance sync") && line.includes(`"backendId":"${backendId}"`)).map((line) => JSON.parse(line));

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  proxy = await startFaultProxy(moto.endpoint);
  t = await startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, INSTANCE_SYNC_SECONDS: "0" });
  const [one, two] = [await readyBackend("sync-fail-one"), await readyBackend("sync-fail-two")].sort();
  // Launched in that order too, so the failing backend's rows come first whichever way they are read.
  const first = await launch(one!, "on-failing");
  const second = await launch(two!, "on-healthy");
  failing = { backendId: one!, instanceId: first.id, ec2Id: first.awsInstanceId };
  healthy = { backendId: two!, instanceId: second.id };
});
afterAll(async () => {
  await t?.close();
  await proxy?.stop();
});
beforeEach(async () => {
  proxy.clearRules();
  // Both records back to PENDING: each round has something to write for both.
  await setStatus(failing.instanceId, "PENDING");
  await setStatus(healthy.instanceId, "PENDING");
});

describe("instance sync with one failing backend", () => {
  it("AWS refuses DescribeInstances for one backend: logged with its id, operation and code; the other backend is synced", async () => {
    proxy.addRule({ match: (r) => r.action === "DescribeInstances" && r.body.includes(failing.ec2Id), fault: { kind: "accessDenied" } });
    await t.server.syncInstances();
    expect(await status(healthy.instanceId)).toBe("RUNNING");
    expect(await status(failing.instanceId)).toBe("PENDING");
    expect(syncLogsOf(failing.backendId)).toEqual([
      expect.objectContaining({ level: 40, backendId: failing.backendId, operation: "DescribeInstances", kind: "ACCESS_DENIED" }),
    ]);
  });

  it("one backend's stored credentials cannot be opened: logged with its id; the other backend is synced", async () => {
    const sealed = (await backendRow(t.databaseUrl, failing.backendId))!.sealedCredentials!;
    await setSealed(t.databaseUrl, failing.backendId, tamper(sealed));
    try {
      const before = syncLogsOf(failing.backendId).length;
      await t.server.syncInstances();
      expect(await status(healthy.instanceId)).toBe("RUNNING");
      expect(syncLogsOf(failing.backendId).slice(before)).toEqual([expect.objectContaining({ backendId: failing.backendId, msg: expect.stringContaining("credentials") })]);
    } finally {
      await setSealed(t.databaseUrl, failing.backendId, sealed);
    }
  });

  it("an unexpected failure while syncing one backend (a database trigger refusing its writes) is logged with its id and does not stop the round", async () => {
    await withDb(t.databaseUrl, async (db) => {
      await db.query(`CREATE FUNCTION refuse_instance_write() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`);
      await db.query(
        `CREATE TRIGGER refuse_instance_write BEFORE UPDATE ON "Instance" FOR EACH ROW WHEN (OLD."backendId" = '${failing.backendId}') EXECUTE FUNCTION refuse_instance_write()`,
      );
    });
    try {
      const before = syncLogsOf(failing.backendId).length;
      await t.server.syncInstances();
      expect(await status(healthy.instanceId)).toBe("RUNNING");
      expect(syncLogsOf(failing.backendId).slice(before)).toEqual([expect.objectContaining({ level: 40, backendId: failing.backendId })]);
    } finally {
      await withDb(t.databaseUrl, (db) => db.query(`DROP TRIGGER refuse_instance_write ON "Instance"; DROP FUNCTION refuse_instance_write()`));
    }
    expect(await status(failing.instanceId)).toBe("PENDING");
  });
});

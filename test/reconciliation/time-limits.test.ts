// A time limit through the real server, GraphQL, moto and PostgreSQL: an instance launched with
// maxDurationMinutes: 1 runs until its minute is up (the periodic pass leaves it alone before) and
// is then terminated by the reconciler, with statusReason and a finding saying why. This waits out
// the real minute: a limit is counted from the record's creation, and nothing here fakes the clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { waitUntil } from "../provisioning/harness.js";
import { backendState, ec2State, INSTANCE, launch, provisionedBackend } from "./support.js";

const REGION = "eu-west-1";
let moto: MotoServer;
let t: TestServer;

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "1", RECONCILE_SECONDS: "1" });
});
afterAll(() => t?.close());

describe("maxDurationMinutes", () => {
  it("terminates the instance once its minute is up, not before", { timeout: 150_000 }, async () => {
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, `limit-${process.pid % 1000}`, REGION);
    const { instance, userErrors } = await launch(t.admin, backendId, { instanceType: "t3.micro", name: "one-minute", maxDurationMinutes: 1 });
    expect(userErrors).toEqual([]);
    const expiresAt = Date.parse(instance.expiresAt);
    expect(expiresAt - Date.parse(instance.createdAt)).toBe(60_000);

    // Running, and still running a few passes before the limit.
    await waitUntil("the instance running", async () => (await t.admin.ok(INSTANCE, { id: instance.id })).instance.status === "RUNNING", 20_000, 250);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() - 5_000)));
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.status).toBe("RUNNING");
    expect(await ec2State(moto.endpoint, REGION, instance.awsInstanceId)).toBe("running");

    const ended = await waitUntil(
      "the instance terminated by its time limit",
      async () => {
        const now = (await t.admin.ok(INSTANCE, { id: instance.id })).instance;
        return now.status === "TERMINATED" || now.status === "TERMINATING" ? now : null;
      },
      30_000,
      250,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(ended.statusReason).toMatch(/time limit of 1 minute/);
    expect(await ec2State(moto.endpoint, REGION, instance.awsInstanceId)).toBe("terminated");
    const { findings } = await backendState(t.admin, backendId);
    expect(findings).toEqual([
      expect.objectContaining({ kind: "MAX_DURATION_REACHED", action: "TERMINATED", resourceType: "ec2:instance", resourceId: instance.awsInstanceId, message: expect.stringContaining("one-minute") }),
    ]);
    // The sync then sees it terminated, which is not reported as gone: the reconciler ended it.
    const final = await waitUntil("the record TERMINATED", async () => {
      const now = (await t.admin.ok(INSTANCE, { id: instance.id })).instance;
      return now.status === "TERMINATED" ? now : null;
    }, 20_000, 250);
    expect(final.statusReason).toMatch(/time limit of 1 minute/);
    expect((await backendState(t.admin, backendId)).findings).toHaveLength(1);
  });
});

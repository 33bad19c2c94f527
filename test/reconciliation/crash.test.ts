// A server killed between RunInstances and the record update, through real processes, GraphQL,
// moto and PostgreSQL. The server runs as a child process; the fault proxy holds its RunInstances
// calls while the test sends them on to moto itself, so EC2 starts the instances and the server
// never hears back; then the process is SIGKILLed. A new server on the same database must leave
// nothing running untracked: the instance whose record is still live is adopted by the
// reconciler, and the one whose record has ended is terminated once it is past the grace period.
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/database.js";
import { useFaultProxy, useMoto } from "../support/fixtures.js";
import { GraphQLClient } from "../support/graphql-client.js";
import { startTestServer, TEST_ADMIN_TOKEN } from "../support/server.js";
import { removeServerBundle, startServerProcess, waitUntil } from "../provisioning/harness.js";
import { withDb } from "../backends/support.js";
import { backendState, ec2Instances, forwardToMoto, INSTANCE, LAUNCH, provisionedBackend, tagsOf } from "./support.js";

const REGION = "eu-west-1";
// One world for the file: moto wiped once, the proxy's rules kept between tests.
const moto = useMoto({ reset: "once" });
const proxy = useFaultProxy(moto, { keep: true });

afterAll(() => removeServerBundle());

describe("a server killed between RunInstances and the record update", () => {
  it("leaves nothing running untracked: the instance of a live record is adopted, the one of an ended record terminated", { timeout: 180_000 }, async () => {
    const database = await createTestDatabase();
    const child = await startServerProcess({ DATABASE_URL: database.url, AWS_ENDPOINT_URL: proxy.endpoint, RECONCILE_SECONDS: "0", INSTANCE_SYNC_SECONDS: "0" });
    try {
      const admin = new GraphQLClient(child.url, TEST_ADMIN_TOKEN);
      const { backendId } = await provisionedBackend(admin, moto.endpoint, `crash-${process.pid % 1000}`, REGION);

      const forwarded: Promise<{ status: number }>[] = [];
      proxy.addRule({ match: (request) => request.action === "RunInstances" && forwarded.push(forwardToMoto(moto.endpoint, request)) > 0, fault: { kind: "timeout" }, times: 2 });
      const launches = ["kept", "ended"].map((name) => admin.request(LAUNCH, { backendId, input: { instanceType: "t3.micro", name } }).catch(() => null));
      await waitUntil("both RunInstances sent", () => forwarded.length === 2, 30_000);
      expect((await Promise.all(forwarded)).map((answer) => answer.status)).toEqual([200, 200]);
      await child.kill();
      await Promise.all(launches);
      proxy.clearRules();

      // What the crash left: two records without an instance id, two instances in EC2 with their tokens.
      const records = await withDb(database.url, async (db) => (await db.query(`SELECT id, name, status, "awsInstanceId", "clientToken" FROM "Instance" ORDER BY name`)).rows);
      expect(records.map((row) => [row.name, row.status, row.awsInstanceId])).toEqual([["ended", "PENDING", null], ["kept", "PENDING", null]]);
      const launched = (await ec2Instances(moto.endpoint, REGION)).filter((instance) => tagsOf(instance).dstack_backend === backendId);
      const byName = Object.fromEntries(launched.map((instance) => [tagsOf(instance).Name, instance]));
      expect(Object.keys(byName).sort()).toEqual(["ended", "kept"]);
      expect(tagsOf(byName.kept!).dstack_client_token).toBe(records.find((row) => row.name === "kept")!.clientToken);
      // The other record ends while no server knows of its instance (as the sync does with a launch EC2 did not list in time).
      await withDb(database.url, (db) => db.query(`UPDATE "Instance" SET status = 'FAILED', "terminatedAt" = now() WHERE name = 'ended'`));

      const restarted = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, RECONCILE_SECONDS: "1", ORPHAN_GRACE_SECONDS: "3", INSTANCE_SYNC_SECONDS: "0" }, database.url);
      try {
        const kept = records.find((row) => row.name === "kept")!;
        const adopted = await waitUntil("the kept record adopted", async () => {
          const instance = (await restarted.admin.ok(INSTANCE, { id: kept.id })).instance;
          return instance.awsInstanceId ? instance : null;
        }, 30_000, 250);
        expect(adopted).toMatchObject({ awsInstanceId: byName.kept!.InstanceId, status: "RUNNING" });
        await waitUntil("the ended record's instance terminated", async () => {
          const now = (await ec2Instances(moto.endpoint, REGION)).find((instance) => instance.InstanceId === byName.ended!.InstanceId);
          return now?.State?.Name === "terminated";
        }, 30_000, 250);

        // Nothing runs that no live record tracks.
        const live = await withDb(database.url, async (db) => (await db.query(`SELECT "awsInstanceId" FROM "Instance" WHERE status IN ('PENDING', 'RUNNING', 'TERMINATING')`)).rows.map((row) => row.awsInstanceId));
        const running = (await ec2Instances(moto.endpoint, REGION)).filter((instance) => tagsOf(instance).dstack_backend === backendId && instance.State?.Name !== "terminated");
        expect(running.map((instance) => instance.InstanceId)).toEqual([byName.kept!.InstanceId]);
        expect(running.every((instance) => live.includes(instance.InstanceId))).toBe(true);
        const { findings } = await backendState(restarted.admin, backendId);
        expect(findings).toEqual([
          expect.objectContaining({ kind: "ORPHAN_INSTANCE", action: "TERMINATED", resourceId: byName.ended!.InstanceId, message: expect.stringContaining("its record ended is FAILED") }),
        ]);
        expect(restarted.logs.some((line) => line.includes('"operation":"reconciler.adopt"') && line.includes(byName.kept!.InstanceId!))).toBe(true);
      } finally {
        await restarted.server.close();
      }
    } finally {
      await child.kill().catch(() => undefined);
      await database.drop();
    }
  });
});

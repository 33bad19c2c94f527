// A server stopped in the middle of a run, for every step k: the run is held at step k's first
// AWS call (the fault proxy delays it), the server stops gracefully while it is held, and a new
// server on the same database finishes the run: every resource exists exactly once, and the
// steps before k are not executed again (their attempts are unchanged and the new server makes
// none of their calls). The servers form a chain on one database: each k's restarted server is
// the next k's server to stop. The SIGKILL variants are in processes.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSeedBackend, useFaultProxy, useMoto } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import {
  attemptsOf,
  CallRecorder,
  counts,
  expectProvisionedOnce,
  FIRST_OPERATION,
  inventory,
  putUsersOwnLifecycleRule,
  readRun,
  runFromDatabase,
  STEP_NAMES,
  STEP_OPERATIONS,
  waitUntil,
} from "./harness.js";
import { PROVISION, waitForRun } from "./support.js";

const REGION = "eu-west-1";
const HOLD_MS = 800;

const moto = useMoto({ reset: "once" });
const proxy = useFaultProxy(moto);
let first: TestServer;
let current: TestServer;
let recorder: CallRecorder;
const restarts: TestServer[] = [];

async function startServer(reuseDatabaseUrl?: string): Promise<TestServer> {
  recorder = new CallRecorder();
  return startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "1000" }, reuseDatabaseUrl, { awsMiddleware: recorder.middleware });
}

beforeAll(async () => {
  first = current = await startServer();
});
afterAll(async () => {
  for (const server of restarts.reverse()) await server.close();
  await first?.close(); // drops the database
});

/** What exists after steps 0..k-1 finished: counts per kind. */
function createdBefore(k: number) {
  return {
    policies: k > 0 ? 1 : 0,
    roles: k > 1 ? 1 : 0,
    profiles: k > 2 ? 1 : 0,
    securityGroups: k > 3 ? 1 : 0,
    logGroups: k > 4 ? 2 : 0,
    ourLifecycleRules: 0,
  };
}

describe("a run stopped gracefully before step k resumes on another server", () => {
  STEP_NAMES.forEach((stepName, k) => {
    it(`k=${k} (${stepName})`, async () => {
      const bucket = `resume-k${k}`;
      const { backendId } = await createSeedBackend(current.admin, moto.endpoint, { bucket, region: REGION });
      await putUsersOwnLifecycleRule(moto.endpoint, REGION, bucket);

      // Hold step k's first call; stop the server while it is held.
      const operation = FIRST_OPERATION[stepName];
      proxy.clearRules();
      proxy.clearRequests();
      proxy.addRule({ match: (r) => r.action === operation, fault: { kind: "latency", ms: HOLD_MS }, times: 1 });
      const started = await current.admin.ok(PROVISION, { id: backendId });
      const runId = started.provisionBackend.run.id as string;
      await waitUntil(`${operation} held`, () => proxy.requests.some((r) => r.action === operation && r.fault === "latency"));
      const held = await readRun(current.admin, runId);
      expect(held.status).toBe("RUNNING");
      expect(held.steps[k]).toMatchObject({ status: "RUNNING", attempts: 1 });

      const stopping = Date.now();
      await current.server.close();
      const stopMs = Date.now() - stopping;
      expect(stopMs).toBeLessThan(10_000);

      // Stopped after step k-1: earlier steps done, step k interrupted, nothing of it created.
      const stopped = await runFromDatabase(current.databaseUrl, runId);
      expect(stopped.status).toBe("RUNNING");
      expect(stopped.steps.map((s) => s.status)).toEqual(STEP_NAMES.map((_, i) => (i < k ? "DONE" : i === k ? "RUNNING" : "PENDING")));
      expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(createdBefore(k));
      const before = Object.fromEntries(stopped.steps.map((s) => [s.name, s.attempts]));

      // Restart on the same database: the run finishes there.
      const next = await startServer(current.databaseUrl);
      restarts.push(next);
      current = next;
      const run = await waitForRun(current.admin, runId, 30_000);
      expect(run.error).toBeNull();
      expect(run.status).toBe("SUCCEEDED");
      expect(run.backend.status).toBe("READY");
      expect(run.steps.every((s: any) => s.status === "DONE")).toBe(true);

      const attempts = attemptsOf(run);
      STEP_NAMES.forEach((name, i) => {
        if (i < k) expect(attempts[name]).toBe(before[name]); // not executed again
        else if (i === k) expect(attempts[name]).toBe(before[name] + 1); // the interrupted attempt, then one more
        else expect(attempts[name]).toBe(1);
      });
      const operations = new Set(recorder.operations());
      for (const name of STEP_NAMES.slice(0, k)) {
        for (const op of STEP_OPERATIONS[name]) expect(operations.has(op), `${op} of ${name} after the restart`).toBe(false);
      }
      expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId, userRuleIds: ["users-own"] });
    });
  });
});

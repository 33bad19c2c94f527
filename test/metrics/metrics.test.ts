// GET /metrics through the real server: 404 without METRICS_TOKEN, 401 without the bearer token,
// and, after real traffic (GraphQL over HTTP and WebSocket, AWS calls through a fault proxy in
// front of moto that throttles and denies some of them, a provisioning run, a launch), every
// family the operations page documents, with its labels.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationNames } from "../../src/metrics/operation-names.js";
import { DISCOVER, newUser } from "../backends/support.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";
import { createSeedBackend } from "../support/fixtures.js";
import { overWebSocket } from "../audit/support.js";
import { on, startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";

const TOKEN = "metrics-token-0123456789abcdef";
const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) { instance { id status } userErrors { code } } }`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's sample lines. */
function parse(text: string): Sample[] {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

const metricsUrl = (t: TestServer) => t.url.replace(/\/graphql$/, "/metrics");

describe("GET /metrics", () => {
  it("does not exist without METRICS_TOKEN", async () => {
    const t = await startTestServer();
    try {
      expect((await fetch(metricsUrl(t))).status).toBe(404);
      expect((await fetch(metricsUrl(t), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  describe("with METRICS_TOKEN", () => {
    let moto: MotoServer;
    let proxy: FaultProxy;
    let t: TestServer;
    let samples: Sample[];
    let text: string;

    const scrape = async () => {
      const response = await fetch(metricsUrl(t), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      text = await response.text();
      samples = parse(text);
    };
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
    const value = (name: string, labels: Record<string, string>) => find(name, labels).reduce((sum, s) => sum + s.value, 0);

    beforeAll(async () => {
      moto = await startMoto();
      await moto.reset();
      proxy = await startFaultProxy(moto.endpoint);
      t = await startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, METRICS_TOKEN: TOKEN, INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50" });

      // GraphQL: named, anonymous, refused (an error in the response), and over WebSocket.
      const bob = await newUser(t, "bob");
      await t.admin.ok("query Me { me { id } }");
      await t.admin.ok("{ me { id } }");
      expect(await bob.client.errorCode("query Verify { verifyAuditChain { intact } }")).toBe("FORBIDDEN");
      await overWebSocket(t.url, t.adminToken, `mutation Ws { createProject(input: { name: "over-ws" }) { project { id } } }`);

      // AWS: a backend (ok calls), then discovery throttled at STS and denied at S3 ListBuckets.
      const { backendId, user } = await createSeedBackend(t.admin, moto.endpoint, { bucket: "metrics-bucket", input: { image: MOTO_CANONICAL_IMAGE } });
      const keys = { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
      proxy.addRule({ match: on.action("GetCallerIdentity"), fault: { kind: "throttle" } });
      await t.admin.ok(DISCOVER, { input: { credentials: keys } });
      proxy.clearRules();
      proxy.addRule({ match: on.action("ListBuckets"), fault: { kind: "accessDenied" } });
      await t.admin.ok(DISCOVER, { input: { credentials: keys } });
      proxy.clearRules();

      // A provisioning run and a launch.
      const run = await t.admin.ok(PROVISION, { id: backendId });
      expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
      expect((await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro" } })).launchInstance.userErrors).toEqual([]);
      t.server.metrics.recordReconcilerFinding("orphan_terminated");
      await scrape();
    });
    afterAll(async () => {
      await t?.close();
      await proxy?.stop();
    });

    it("answers 401 without the bearer token, with a wrong one, or another scheme", async () => {
      for (const authorization of [undefined, "Bearer wrong-token-0123456789abcdef", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const response = await fetch(metricsUrl(t), { headers: authorization ? { authorization } : {} });
        expect(response.status, authorization).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(await response.text()).not.toContain("backend_hub");
      }
    });

    it("counts GraphQL operations by name and outcome, anonymous ones as one, over both doors", () => {
      expect(value("backend_hub_graphql_requests_total", { operation: "Me", outcome: "ok" })).toBe(1);
      expect(value("backend_hub_graphql_requests_total", { operation: "anonymous", outcome: "ok" })).toBeGreaterThanOrEqual(1);
      expect(value("backend_hub_graphql_requests_total", { operation: "Verify", outcome: "error" })).toBe(1);
      expect(value("backend_hub_graphql_requests_total", { operation: "Ws", outcome: "ok" })).toBe(1);
      expect(value("backend_hub_graphql_request_duration_seconds_count", { operation: "Me", outcome: "ok" })).toBe(1);
      expect(find("backend_hub_graphql_request_duration_seconds_bucket", { operation: "Me", le: "+Inf" })).toHaveLength(1);
    });

    it("counts AWS calls by service, IAM action and outcome: ok, throttled, denied", () => {
      expect(value("backend_hub_aws_calls_total", { service: "sts", action: "sts:GetCallerIdentity", outcome: "ok" })).toBeGreaterThanOrEqual(1);
      expect(value("backend_hub_aws_calls_total", { service: "sts", action: "sts:GetCallerIdentity", outcome: "throttled" })).toBeGreaterThanOrEqual(1);
      expect(value("backend_hub_aws_calls_total", { service: "s3", action: "s3:ListAllMyBuckets", outcome: "denied" })).toBe(1);
      expect(value("backend_hub_aws_calls_total", { service: "ec2", action: "ec2:RunInstances", outcome: "ok" })).toBe(1);
      expect(value("backend_hub_aws_call_duration_seconds_count", { service: "sts", action: "sts:GetCallerIdentity", outcome: "throttled" })).toBeGreaterThanOrEqual(1);
      const outcomes = new Set(find("backend_hub_aws_calls_total").map((s) => s.labels.outcome));
      expect([...outcomes].every((outcome) => ["ok", "throttled", "denied", "error"].includes(outcome!))).toBe(true);
    });

    it("counts finished provisioning runs by kind and outcome, with their durations", () => {
      expect(value("backend_hub_provisioning_runs_total", { kind: "PROVISION", outcome: "succeeded" })).toBe(1);
      expect(value("backend_hub_provisioning_run_duration_seconds_count", { kind: "PROVISION", outcome: "succeeded" })).toBe(1);
    });

    it("shows instances by status, read from the database on scrape", () => {
      const byStatus = find("backend_hub_instances");
      expect(byStatus.map((s) => s.labels.status).sort()).toEqual(["FAILED", "NO_CAPACITY", "PENDING", "RUNNING", "TERMINATED", "TERMINATING"]);
      expect(byStatus.reduce((sum, s) => sum + s.value, 0)).toBe(1);
    });

    it("has the reconciler's findings, queue depth, database pool and the process's default metrics", () => {
      expect(value("backend_hub_reconciler_findings_total", { kind: "orphan_terminated" })).toBe(1);
      expect(find("backend_hub_job_queue_depth").map((s) => s.labels.state).sort()).toEqual(["active", "queued"]);
      expect(value("backend_hub_db_pool_connections", { state: "total" })).toBeGreaterThan(0);
      expect(find("backend_hub_db_pool_connections").map((s) => s.labels.state).sort()).toEqual(["idle", "total", "waiting"]);
      expect(value("backend_hub_db_pool_max", {})).toBe(10);
      for (const family of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
        expect(find(family), family).not.toHaveLength(0);
      }
      for (const family of ["graphql_requests_total", "graphql_request_duration_seconds", "aws_calls_total", "aws_call_duration_seconds", "provisioning_runs_total", "provisioning_run_duration_seconds", "instances", "reconciler_findings_total"]) {
        expect(text).toMatch(new RegExp(`^# HELP backend_hub_${family} `, "m"));
      }
    });
  });
});

describe("operation names as labels", () => {
  it("keep their own series up to a cap, then share 'other'; unnamed ones share 'anonymous'", () => {
    const names = new OperationNames(3);
    expect([names.label("A"), names.label("B"), names.label(undefined), names.label(""), names.label("C"), names.label("D"), names.label("A")]).toEqual([
      "A",
      "B",
      "anonymous",
      "anonymous",
      "C",
      "other",
      "A",
    ]);
    expect(names.label("x".repeat(65))).toBe("other");
    expect(new OperationNames().label("anonymous")).toBe("other");
  });
});

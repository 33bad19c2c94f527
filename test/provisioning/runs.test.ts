// Provisioning runs end to end: the real HTTP server, GraphQL, PostgreSQL and moto (through the
// fault proxy, which forwards everything unless a test adds a rule). What a fresh run creates,
// that a second run changes nothing, subnet backends, one run for concurrent requests, faults,
// a missing permission and its grant, and teardown with and without the delete permissions.
// Users hold the seed's actions as moto can enforce them (seedPolicyForMoto): which actions are
// granted is what these tests are about; the resources are checked by least-privilege.test.ts.
import { PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { TEARDOWN_ACTIONS_BEYOND_SEED } from "../../src/provisioning/steps/index.js";
import { createSeedBackend, seedPolicyForMoto, useFaultProxy, useMoto, useServer } from "../support/fixtures.js";
import { on } from "../support/fault-proxy.js";
import { createAdminUser, createSubnet, iamClient, policy, type MotoUser } from "../support/moto-iam.js";
import {
  attemptsOf,
  CallRecorder,
  counts,
  defaultVpcId,
  expectProvisionedOnce,
  inventory,
  putUsersOwnLifecycleRule,
  readRun,
  seededRandom,
  STEP_NAMES,
  STEP_OPERATIONS,
} from "./harness.js";
import { PROVISION, TEARDOWN, waitForRun } from "./support.js";

const REGION = "eu-west-1";
const NOTHING = { policies: 0, roles: 0, profiles: 0, securityGroups: 0, logGroups: 0, ourLifecycleRules: 0 };
const ONE_EACH = { policies: 1, roles: 1, profiles: 1, securityGroups: 1, logGroups: 2, ourLifecycleRules: 2 };

const ALLOW_ALL = policy([{ Effect: "Allow", Action: "*", Resource: "*" }]);

let random: () => number = Math.random;
const recorder = new CallRecorder();
const moto = useMoto();
// The server's AWS calls go through the proxy; tests look at moto directly.
const proxy = useFaultProxy(moto, { random: () => random() });
const t = useServer({ RATE_LIMIT_AWS_MUTATIONS: "1000" }, { aws: proxy, awsMiddleware: recorder.middleware });
beforeEach(() => {
  recorder.clear();
  random = Math.random;
});

async function provision(backendId: string): Promise<any> {
  const started = await t.admin.ok(PROVISION, { id: backendId });
  expect(started.provisionBackend.userErrors).toEqual([]);
  return waitForRun(t.admin, started.provisionBackend.run.id);
}

async function putUserPolicy(user: MotoUser, document: object, adminKeys: MotoUser) {
  const iam = iamClient(moto.endpoint, adminKeys);
  await iam.send(new PutUserPolicyCommand({ UserName: user.userName, PolicyName: "policy", PolicyDocument: JSON.stringify(document) }));
  iam.destroy();
}

describe("a provisioning run", () => {
  it("creates exactly the expected resources, tagged; a second run on the READY backend makes no mutating AWS call", async () => {
    const bucket = "runs-fresh";
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION });
    // A rule of the user's own: provisioning adds its rules next to it.
    await putUsersOwnLifecycleRule(moto.endpoint, REGION, bucket);
    recorder.clear();

    const run = await provision(backendId);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.backend.status).toBe("READY");
    expect(run.steps.map((s: any) => [s.name, s.status, s.attempts])).toEqual(STEP_NAMES.map((name) => [name, "DONE", 1]));

    const found = await inventory(moto.endpoint, REGION, bucket);
    expectProvisionedOnce(found, { bucket, backendId, userRuleIds: ["users-own"], vpcId: await defaultVpcId(moto.endpoint, REGION) });
    // Nothing else carries the backend's tags.
    expect(counts(await inventory(moto.endpoint, REGION, bucket, { byTag: true }))).toEqual(ONE_EACH);
    // Each resource was created by exactly one call.
    expect(recorder.operations().filter((op) => op.startsWith("Create")).sort()).toEqual([
      "CreateInstanceProfile",
      "CreateLogGroup",
      "CreateLogGroup",
      "CreatePolicy",
      "CreateRole",
      "CreateSecurityGroup",
    ]);
    const resourceIds = run.steps.map((s: any) => s.resourceId);

    recorder.clear();
    proxy.clearRequests();
    const second = await provision(backendId);
    expect(second.id).not.toBe(run.id);
    expect(second.status).toBe("SUCCEEDED");
    expect(second.backend.status).toBe("READY");
    expect(recorder.mutating()).toEqual([]);
    expect(proxy.requests.map((r) => r.action).filter((a) => a && /^(Create|Put|Attach|Add|Authorize|Tag|Delete)/.test(a))).toEqual([]);
    expect(recorder.calls.length).toBeGreaterThan(0);
    expect(second.steps.map((s: any) => s.resourceId)).toEqual(resourceIds);
    expect(await inventory(moto.endpoint, REGION, bucket)).toEqual(found);
  });

  it("puts a subnet backend's security group in that subnet's VPC", async () => {
    const bucket = "runs-subnet";
    const { vpcId, subnetId } = await createSubnet(moto.endpoint, REGION, { cidr: "10.42.0.0/16" });
    expect(vpcId).not.toBe(await defaultVpcId(moto.endpoint, REGION));
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION, input: { subnetId } });

    const run = await provision(backendId);
    expect(run.status).toBe("SUCCEEDED");
    const found = await inventory(moto.endpoint, REGION, bucket);
    expectProvisionedOnce(found, { bucket, backendId, vpcId });
    expect(found.securityGroups[0].name).toBe(`dstack_security_group_${subnetId.replaceAll("-", "_")}_runs_subnet`);
    expect(run.steps.find((s: any) => s.name === "security-group").resourceId).toBe(found.securityGroups[0].id);
  });

  it("answers 20 concurrent provisionBackend calls with one run", async () => {
    const bucket = "runs-concurrent";
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION });
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.admin.ok(PROVISION, { id: backendId })));
    for (const answer of answers) expect(answer.provisionBackend.userErrors).toEqual([]);
    const ids = new Set(answers.map((a) => a.provisionBackend.run.id));
    expect(ids.size).toBe(1);
    expect(await t.server.database.prisma.provisioningRun.count({ where: { backendId } })).toBe(1);

    const run = await waitForRun(t.admin, [...ids][0]);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.steps.every((s: any) => s.attempts === 1)).toBe(true);
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId });
  });

  it("completes when a share of AWS calls is throttled or answered with 5xx", async () => {
    const bucket = "runs-faults";
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION });
    random = seededRandom(20240601);
    proxy.addRule({ match: on.any(), fault: { kind: "throttle" }, probability: 0.25 });
    proxy.addRule({ match: on.any(), fault: { kind: "serverError" }, probability: 0.2 });

    const run = await provision(backendId);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    const faults = proxy.requests.filter((r) => r.fault !== null);
    expect(faults.filter((r) => r.fault === "throttle").length).toBeGreaterThan(0);
    expect(faults.filter((r) => r.fault === "serverError").length).toBeGreaterThan(0);
    // Mutating calls were among those failed and retried.
    expect(faults.some((r) => r.action && /^(Create|Put|Attach|Add|Authorize)/.test(r.action))).toBe(true);
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket), { bucket, backendId });
  });

  it("fails on AccessDenied naming the action, and resumes from the failed step once it is granted", async () => {
    const bucket = "runs-denied";
    const adminKeys = await createAdminUser(moto.endpoint);
    const { backendId, user } = await createSeedBackend(t.admin, moto.endpoint, {
      bucket,
      region: REGION,
      policy: policy([
        { Effect: "Allow", Action: "*", Resource: "*" },
        { Effect: "Deny", Action: "iam:CreateInstanceProfile", Resource: "*" },
      ]),
    });
    await moto.setIamEnforcement(true);
    try {
      const failed = await provision(backendId);
      expect(failed.status).toBe("FAILED");
      expect(failed.backend.status).toBe("FAILED");
      expect(failed.steps.map((s: any) => [s.name, s.status])).toEqual([
        ["iam-policy", "DONE"],
        ["iam-role", "DONE"],
        ["instance-profile", "FAILED"],
        ["security-group", "PENDING"],
        ["log-groups", "PENDING"],
        ["bucket-lifecycle", "PENDING"],
      ]);
      const message = failed.steps[2].message as string;
      expect(message).toContain("iam:CreateInstanceProfile");
      expect(message).toContain("grant iam:CreateInstanceProfile");
      expect(failed.error).toContain("instance-profile:");
      expect(failed.error).toContain("iam:CreateInstanceProfile");
      const before = attemptsOf(failed);

      await putUserPolicy(user, ALLOW_ALL, adminKeys);
      recorder.clear();
      const resumed = await t.admin.ok(PROVISION, { id: backendId });
      expect(resumed.provisionBackend.userErrors).toEqual([]);
      expect(resumed.provisionBackend.run.id).toBe(failed.id);
      const done = await waitForRun(t.admin, failed.id);
      expect(done.status).toBe("SUCCEEDED");
      expect(done.error).toBeNull();
      expect(done.backend.status).toBe("READY");
      // Steps before the failed one were not executed again.
      expect(attemptsOf(done)).toEqual({
        "iam-policy": before["iam-policy"],
        "iam-role": before["iam-role"],
        "instance-profile": before["instance-profile"] + 1,
        "security-group": 1,
        "log-groups": 1,
        "bucket-lifecycle": 1,
      });
      const again = recorder.operations();
      for (const op of [...STEP_OPERATIONS["iam-policy"], "CreateRole", "AttachRolePolicy"]) expect(again).not.toContain(op);
      expectProvisionedOnce(await inventory(moto.endpoint, REGION, bucket, { keys: adminKeys }), { bucket, backendId });
    } finally {
      await moto.setIamEnforcement(false);
    }
  });
});

describe("teardown", () => {
  it("after provisioning leaves no tagged resource and keeps the user's lifecycle rules", async () => {
    const bucket = "runs-teardown";
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION });
    await putUsersOwnLifecycleRule(moto.endpoint, REGION, bucket);
    expect((await provision(backendId)).status).toBe("SUCCEEDED");
    expect(counts(await inventory(moto.endpoint, REGION, bucket, { byTag: true }))).toEqual(ONE_EACH);

    const started = await t.admin.ok(TEARDOWN, { id: backendId });
    expect(started.teardownBackend.userErrors).toEqual([]);
    const run = await waitForRun(t.admin, started.teardownBackend.run.id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.backend.status).toBe("CONFIGURED");
    expect(run.steps.map((s: any) => s.name)).toEqual([...STEP_NAMES].reverse());

    const left = await inventory(moto.endpoint, REGION, bucket, { byTag: true });
    expect(counts(left)).toEqual(NOTHING);
    expect(left.lifecycleRules.map((r) => r.ID)).toEqual(["users-own"]);
    expect(counts(await inventory(moto.endpoint, REGION, bucket))).toEqual(NOTHING);
  });

  it("with the seed's policy only fails naming the delete actions and says what is left behind; granted, it finishes", async () => {
    const bucket = "runs-teardown-seed";
    const adminKeys = await createAdminUser(moto.endpoint);
    const { backendId, user } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region: REGION, policy: seedPolicyForMoto(bucket) });
    await moto.setIamEnforcement(true);
    try {
      // The seed's policy is enough to provision…
      const provisioned = await provision(backendId);
      expect(provisioned.error).toBeNull();
      expect(provisioned.status).toBe("SUCCEEDED");
      const found = await inventory(moto.endpoint, REGION, bucket, { keys: adminKeys });
      expectProvisionedOnce(found, { bucket, backendId });

      // …but has no delete permission.
      const started = await t.admin.ok(TEARDOWN, { id: backendId });
      const failed = await waitForRun(t.admin, started.teardownBackend.run.id);
      expect(failed.status).toBe("FAILED");
      expect(failed.backend.status).toBe("FAILED");
      const byName = Object.fromEntries(failed.steps.map((s: any) => [s.name, s]));
      // DeleteBucketLifecycle / PutBucketLifecycleConfiguration are s3:PutLifecycleConfiguration: in the seed.
      expect(byName["bucket-lifecycle"].status).toBe("DONE");
      for (const name of ["log-groups", "security-group", "instance-profile", "iam-role", "iam-policy"]) {
        expect(byName[name].status).toBe("FAILED");
        // Each step's message names every action its teardown needs beyond the seed's policy.
        for (const action of TEARDOWN_ACTIONS_BEYOND_SEED[name]) expect(byName[name].message).toContain(action);
        expect(failed.error).toContain(`${name}:`);
      }
      for (const action of Object.values(TEARDOWN_ACTIONS_BEYOND_SEED).flat()) expect(failed.error).toContain(action);
      // What is left behind, by name.
      const left = failed.error.slice(failed.error.lastIndexOf("Left behind:"));
      expect(left).toContain(found.policies[0].arn);
      expect(left).toContain(`role/dstack_role_runs_teardown_seed`);
      expect(left).toContain(`instance-profile/dstack_role_runs_teardown_seed`);
      expect(left).toContain(found.securityGroups[0].id);
      expect(left).toContain(`/dstack/jobs/${bucket}`);
      expect(left).toContain(`/dstack/runners/${bucket}`);
      expect(left).not.toContain("lifecycle");
      // And it is really still there; only our lifecycle rules are gone.
      const still = await inventory(moto.endpoint, REGION, bucket, { keys: adminKeys });
      expect(counts(still)).toEqual({ ...ONE_EACH, ourLifecycleRules: 0 });

      // Granted, the same run resumes and removes the rest.
      await putUserPolicy(user, ALLOW_ALL, adminKeys);
      const resumed = await t.admin.ok(TEARDOWN, { id: backendId });
      expect(resumed.teardownBackend.run.id).toBe(failed.id);
      const done = await waitForRun(t.admin, failed.id);
      expect(done.error).toBeNull();
      expect(done.status).toBe("SUCCEEDED");
      expect(done.backend.status).toBe("CONFIGURED");
      expect(byName["bucket-lifecycle"].attempts).toBe(done.steps.find((s: any) => s.name === "bucket-lifecycle").attempts);
      expect(counts(await inventory(moto.endpoint, REGION, bucket, { byTag: true, keys: adminKeys }))).toEqual(NOTHING);
      expect((await readRun(t.admin, failed.id)).status).toBe("SUCCEEDED");
    } finally {
      await moto.setIamEnforcement(false);
    }
  });
});

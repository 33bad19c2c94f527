// The least-privilege proof. Every AWS call the service makes during discovery, backend creation
// and provisioning is recorded by the SDK middleware (action, resource, region) and evaluated
// against the seed's policy, awsIamPolicy(bucket), with an IAM policy simulator
// (@cloud-copilot/iam-simulate). moto enforces IAM only by action (moto.md §2), so the simulator
// is what checks resources and conditions; the flow also runs with moto's enforcement on, under
// a user holding the seed's actions, so a call the seed cannot make really fails.
//
// Allowed beyond the seed's policy (the README's "Permissions" section lists them with reasons):
// - sts:GetCallerIdentity needs no permission (AWS answers it for any valid credentials).
// - ec2:DescribeRouteTables is optional: discovery uses it to label subnets public/private and
//   works without it (public: null); shown below with enforcement on.
// - PROVISION_ACTIONS_BEYOND_SEED, only where a run needs them: ec2:RevokeSecurityGroupIngress
//   when SSH_INGRESS_CIDRS no longer lists a CIDR provisioning allowed before.
// - Teardown's deletes (TEARDOWN_ACTIONS_BEYOND_SEED): the seed's policy grants none.
import { PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsCallRecord } from "../../src/aws/clients.js";
import { awsIamPolicyDocument, type IamPolicyDocument } from "../../src/aws/iam-policy.js";
import { PROVISION_ACTIONS_BEYOND_SEED, TEARDOWN_ACTIONS_BEYOND_SEED } from "../../src/provisioning/steps/index.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { createAdminUser, createBucket, createIamUser, createSubnet, iamClient, policy, type MotoUser } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { CallRecorder, counts, expectProvisionedOnce, inventory } from "./harness.js";
import { PROVISION, TEARDOWN, waitForRun } from "./support.js";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const BUCKET = "least-privilege-proof";
const BUCKET_US = "least_privilege_proof";

/** Actions that need no permission at all. */
const NEEDS_NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);
/** Actions the service tries and does without when denied (see the header). */
const OPTIONAL = new Set(["ec2:DescribeRouteTables"]);
/** EC2 actions the seed grants only on instances tagged dstack_bucket=<bucket>. */
const TAG_CONDITIONED = new Set(["ec2:TerminateInstances", "ec2:CancelSpotInstanceRequests"]);
/** EC2 actions on the backend's security group, which provisioning tags dstack_bucket=<bucket>. */
const ON_SECURITY_GROUP = new Set(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"]);

/**
 * What to add to the seed's policy for teardown and for changing SSH_INGRESS_CIDRS, scoped like
 * the seed's own statements (the README's "Permissions" section shows it; the teardown and CIDR
 * tests below check that it allows every call beyond the seed).
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

/**
 * Actions the simulator only accepts with Resource "*" (its data says they take no resource),
 * while AWS evaluates them against an ARN that the seed's resource pattern matches, so the seed's
 * statement works on AWS: s3:ListAllMyBuckets against arn:aws:s3:::* (what the seed names), and
 * logs:DescribeLogGroups against arn:aws:logs:<region>:<account>:log-group::log-stream: (the
 * resource AWS names in its denials), matched by the seed's arn:aws:logs:*:*:log-group:*. For
 * these the test checks, without the simulator, that an Allow statement of the seed names the
 * action and a resource pattern matching that ARN.
 */
const SIMULATOR_WILDCARD_ONLY: Record<string, (call: AwsCallRecord) => string> = {
  "s3:ListAllMyBuckets": () => "arn:aws:s3:::*",
  "logs:DescribeLogGroups": (call) => `arn:aws:logs:${call.region}:${ACCOUNT}:log-group::log-stream:`,
};

/** The resource ARN a call acts on, built from the record (target, region) and the account. */
function resourceOf(call: AwsCallRecord): string {
  const name = call.target ?? "";
  switch (call.service) {
    case "s3":
      return call.resource!;
    case "iam": {
      if (/Policy$|PolicyVersion$/.test(call.operation) && !/RolePolicy$/.test(call.operation)) return `arn:aws:iam::${ACCOUNT}:policy/dstack_policy_${BUCKET_US}`;
      // Add/RemoveRoleFromInstanceProfile act on the profile; their record's target is the role
      // name, which is also the profile's name (dstack_role_<bucket_us> for both).
      if (/InstanceProfile/.test(call.operation)) return `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
      return `arn:aws:iam::${ACCOUNT}:role/${name}`;
    }
    case "logs":
      // A log group's ARN as IAM matches it (with ":*", as the seed's own patterns expect).
      return `arn:aws:logs:${call.region}:${ACCOUNT}:log-group:${name}:*`;
    case "secretsmanager":
      // AWS appends 6 random characters to a secret's name in its ARN.
      return call.resource ?? `arn:aws:secretsmanager:${call.region}:${ACCOUNT}:secret:${name}-AbCdEf`;
    case "ec2":
      if (TAG_CONDITIONED.has(call.action)) return `arn:aws:ec2:${call.region}:${ACCOUNT}:instance/i-0123456789abcdef0`;
      if (ON_SECURITY_GROUP.has(call.action)) return `arn:aws:ec2:${call.region}:${ACCOUNT}:security-group/sg-0123456789abcdef0`;
      return "*";
    default:
      return "*";
  }
}

const globToRegex = (pattern: string) => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function statementAllows(document: IamPolicyDocument, action: string, resource: string): boolean {
  return document.Statement.some(
    (s) =>
      s.Effect === "Allow" &&
      !s.Condition &&
      asList(s.Action).some((a) => globToRegex(a).test(action)) &&
      asList(s.Resource).some((r) => globToRegex(r).test(resource)),
  );
}

interface Verdict {
  action: string;
  resource: string;
  region: string;
  result: string;
}

async function evaluate(call: AwsCallRecord, document: IamPolicyDocument, userArn: string): Promise<Verdict> {
  const special = SIMULATOR_WILDCARD_ONLY[call.action];
  if (special) {
    const resource = special(call);
    return { action: call.action, resource, region: call.region, result: statementAllows(document, call.action, resource) ? "Allowed" : "ImplicitlyDenied" };
  }
  const resource = resourceOf(call);
  // The instances and the security group carry the backend's tags.
  const tagged = TAG_CONDITIONED.has(call.action) || ON_SECURITY_GROUP.has(call.action);
  const contextVariables: Record<string, string> = tagged ? { "aws:ResourceTag/dstack_bucket": BUCKET } : {};
  const simulation = await runSimulation(
    {
      request: { principal: userArn, action: call.action, resource: { resource, accountId: ACCOUNT }, contextVariables },
      identityPolicies: [{ name: "seed", policy: document }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  const result = simulation.resultType === "error" ? `error: ${simulation.errors.message}` : simulation.overallResult;
  return { action: call.action, resource, region: call.region, result };
}

/**
 * The calls the seed's policy (plus `extra` statements) does not allow, as "action on resource
 * (region): result", deduplicated.
 */
async function denied(calls: AwsCallRecord[], userArn: string, extra: IamPolicyDocument["Statement"] = []): Promise<string[]> {
  const seed = awsIamPolicyDocument(BUCKET);
  const document: IamPolicyDocument = { ...seed, Statement: [...seed.Statement, ...extra] };
  const verdicts = await Promise.all(calls.map((call) => evaluate(call, document, userArn)));
  // SHOW_VERDICTS=1 prints every evaluated call.
  if (process.env.SHOW_VERDICTS) for (const v of verdicts) console.log(`${v.result.padEnd(17)} ${v.action.padEnd(36)} ${v.resource} (${v.region})`);
  return [...new Set(verdicts.filter((v) => v.result !== "Allowed").map((v) => `${v.action} on ${v.resource} (${v.region}): ${v.result}`))].sort();
}

const actionsOf = (verdicts: string[]) => [...new Set(verdicts.map((v) => v.slice(0, v.indexOf(" "))))].sort();

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
const recorder = new CallRecorder();

async function setUserPolicy(document: object) {
  const iam = iamClient(moto.endpoint, adminKeys);
  await iam.send(new PutUserPolicyCommand({ UserName: user.userName, PolicyName: "policy", PolicyDocument: JSON.stringify(document) }));
  iam.destroy();
}

function take(): AwsCallRecord[] {
  const calls = [...recorder.calls];
  recorder.clear();
  return calls;
}

beforeAll(async () => {
  moto = await startMoto();
  await moto.reset();
  first = current = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, RECONCILE_SECONDS: "0" }, undefined, { awsMiddleware: recorder.middleware });
});
afterAll(async () => {
  await moto?.setIamEnforcement(false);
  if (current !== first) await current?.close();
  await first?.close();
});

describe("least privilege: the seed's policy allows every call the service makes", () => {
  it("during discovery, backend creation and provisioning (run twice)", async () => {
    const { subnetId, vpcId } = await createSubnet(moto.endpoint, REGION, { cidr: "10.77.0.0/16" });
    await createBucket(moto.endpoint, BUCKET, REGION);
    adminKeys = await createAdminUser(moto.endpoint);
    user = await createIamUser(moto.endpoint, { userName: `dstack-${BUCKET}`, policy: seedActionsForMoto() });
    const project = await current.admin.ok(`mutation { createProject(input: { name: "least-privilege" }) { project { id } } }`);
    const credentials = { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
    await moto.setIamEnforcement(true);
    recorder.clear();

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
      { projectId: project.createProject.project.id, input: { region: REGION, bucket: BUCKET, subnetId, credentials } },
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

    // What was recorded: every phase made calls, each with an action and a region.
    for (const calls of [discovery, creation, provisioning]) {
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call.action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      for (const call of calls) expect(call.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
    }
    // Everything in the backend's region; STS (GetCallerIdentity) at its global endpoint's region.
    expect(new Set(provisioning.filter((c) => c.service !== "sts").map((c) => c.region))).toEqual(new Set([REGION]));
    expect(new Set(provisioning.map((c) => c.action))).toEqual(
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
    expect(creation.map((c) => c.action)).toContain("secretsmanager:CreateSecret");

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
    // Nothing of PROVISION_ACTIONS_BEYOND_SEED was needed: the CIDRs did not change.
    const beyond = Object.values(PROVISION_ACTIONS_BEYOND_SEED).flat();
    expect(provisioning.filter((c) => beyond.includes(c.action))).toEqual([]);
  });

  it("the simulator sees what the seed's policy does not allow (the check can fail)", async () => {
    const document = awsIamPolicyDocument(BUCKET);
    const call = (service: AwsCallRecord["service"], operation: string, action: string, extra: Partial<AwsCallRecord> = {}): AwsCallRecord => ({
      service,
      region: REGION,
      operation,
      action,
      ...extra,
    });
    const results = await Promise.all(
      [
        call("iam", "CreateRole", "iam:CreateRole", { target: `dstack_role_${BUCKET_US}` }),
        call("iam", "CreateRole", "iam:CreateRole", { target: "someone_elses_role" }),
        call("logs", "CreateLogGroup", "logs:CreateLogGroup", { target: `/dstack/jobs/${BUCKET}` }),
        call("logs", "CreateLogGroup", "logs:CreateLogGroup", { target: "/aws/lambda/other" }),
        call("s3", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", { resource: `arn:aws:s3:::${BUCKET}` }),
        call("s3", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", { resource: "arn:aws:s3:::other-bucket" }),
        call("ec2", "RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"),
        call("ec2", "TerminateInstances", "ec2:TerminateInstances"),
        call("secretsmanager", "CreateSecret", "secretsmanager:CreateSecret", { target: `/dstack/${BUCKET}/credentials/b1` }),
        call("secretsmanager", "CreateSecret", "secretsmanager:CreateSecret", { target: `/other/credentials/b1` }),
        call("s3", "ListBuckets", "s3:ListAllMyBuckets", { resource: "arn:aws:s3:::*" }),
        call("logs", "DescribeLogGroups", "logs:DescribeLogGroups", { target: `/dstack/jobs/${BUCKET}` }),
      ].map((c) => evaluate(c, document, `arn:aws:iam::${ACCOUNT}:user/u`)),
    );
    expect(results.map((r) => r.result)).toEqual([
      "Allowed",
      "ImplicitlyDenied",
      "Allowed",
      "ImplicitlyDenied",
      "Allowed",
      "ImplicitlyDenied",
      "ImplicitlyDenied",
      "Allowed", // tagged dstack_bucket=<bucket>
      "Allowed",
      "ImplicitlyDenied",
      "Allowed",
      "Allowed",
    ]);
    // The tag condition is evaluated, not ignored.
    const untagged = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:user/u`,
          action: "ec2:TerminateInstances",
          resource: { resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`, accountId: ACCOUNT },
          contextVariables: { "aws:ResourceTag/dstack_bucket": "another-bucket" },
        },
        identityPolicies: [{ name: "seed", policy: document }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    expect(untagged.resultType !== "error" && untagged.overallResult).toBe("ImplicitlyDenied");
  });

  it("changing the SSH CIDRs needs ec2:RevokeSecurityGroupIngress, named when missing; nothing else beyond the seed", async () => {
    // A server configured with other CIDRs, on the same database.
    await first.server.close();
    current = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, RECONCILE_SECONDS: "0", SSH_INGRESS_CIDRS: "203.0.113.0/24" }, first.databaseUrl, {
      awsMiddleware: recorder.middleware,
    });
    recorder.clear();
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
    // The README's statements cover it (on the backend's tagged group only).
    expect(await denied(calls, user.arn, beyondSeedGrant(BUCKET))).toEqual([]);
  });

  it("teardown needs exactly the documented actions beyond the seed", async () => {
    await setUserPolicy(policy([{ Effect: "Allow", Action: "*", Resource: "*" }]));
    recorder.clear();
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
    // The README's statements cover all of it, scoped to this backend's names and tag.
    expect(await denied(calls, user.arn, beyondSeedGrant(BUCKET))).toEqual([]);
    // …and nothing of another bucket's backend.
    expect(actionsOf(await denied(calls, user.arn, beyondSeedGrant("another-bucket")))).toEqual(beyond);
  });
});

// The provisioning steps against moto, through the fault proxy: what a fresh run creates, that a
// second run changes nothing, reconciliation (SSH rules, lifecycle rules next to the user's),
// teardown of exactly what was recorded, and how AWS failures become step errors. The run
// executor is not involved: a StepContext is built by hand with an in-memory record.
import { DescribeLogGroupsCommand, ListTagsLogGroupCommand, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyVersionCommand,
  GetPolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  GetInstanceProfileCommand,
} from "@aws-sdk/client-iam";
import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
} from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import type { AwsCredentialSource } from "../../src/aws/clients.js";
import { parseCidr } from "../../src/aws/provisioning/cidr.js";
import { classifyAwsError } from "../../src/aws/errors.js";
import { instancePolicyName, instanceRoleName, securityGroupName } from "../../src/aws/names.js";
import { trustsEc2 } from "../../src/aws/provisioning/documents.js";
import {
  dstackLifecycleRules,
  LIFECYCLE_RULE_IDS,
  mergeLifecycleRules,
  ruleStyleOf,
  withoutLifecycleRules,
} from "../../src/aws/provisioning/s3-lifecycle.js";
import { PermanentStepError, TransientStepError } from "../../src/errors/step-errors.js";
import {
  type ProvisioningStepDefinition,
  type RecordedResource,
  type StepContext,
  type StepOutcome,
} from "../../src/provisioning/step.js";
import { ACTIONS_BEYOND_SEED, PROVISIONING_STEPS, RESOURCE_KIND } from "../../src/provisioning/steps/index.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { on } from "../support/fault-proxy.js";
import { useAwsSession, useFaultProxy, useMoto } from "../support/fixtures.js";
import { createBucket, createIamUser, createSubnet, ec2Client, iamClient, logsClient, policy, s3Client } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const BUCKET = "team-dstack-bucket";
const BUCKET_US = "team_dstack_bucket";
const BACKEND_ID = "backend-0001";
const ACCOUNT = "123456789012";
const CIDRS = ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"];
const DUMMY: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: "test", secretAccessKey: "test" };
const ROLE = `dstack_role_${BUCKET_US}`;
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/dstack_policy_${BUCKET_US}`;
const MUTATING = /^(Create|Put|Attach|Add|Authorize|Tag|Delete|Detach|Remove|Revoke|Update)/;

const moto = useMoto();
const proxy = useFaultProxy(moto);
const { factory, calls } = useAwsSession(proxy);
beforeEach(() => createBucket(moto.endpoint, BUCKET, REGION));

type TestContext = StepContext & { recorded: RecordedResource[] };

/** A StepContext like the executor's: records live in memory and `recorded` is always current. */
function makeContext(options: { subnetId?: string | null; sshIngressCidrs?: string[]; credentials?: AwsCredentialSource; recorded?: RecordedResource[] } = {}): TestContext {
  const context: TestContext = {
    backend: {
      id: BACKEND_ID,
      projectId: "project-1",
      region: REGION,
      bucket: BUCKET,
      bucketUnderscore: BUCKET_US,
      subnetId: options.subnetId ?? null,
    },
    session: { factory, credentials: options.credentials ?? DUMMY },
    tags: [
      { Key: "owner", Value: "dstack" },
      { Key: "dstack_bucket", Value: BUCKET },
      { Key: "dstack_backend", Value: BACKEND_ID },
    ],
    sshIngressCidrs: options.sshIngressCidrs ?? CIDRS,
    recorded: options.recorded ?? [],
    async record(resource) {
      if (!context.recorded.some((r) => r.kind === resource.kind && r.identifier === resource.identifier)) context.recorded.push(resource);
    },
    async forget(kind, identifier) {
      context.recorded = context.recorded.filter((r) => !(r.kind === kind && r.identifier === identifier));
    },
    signal: new AbortController().signal,
  };
  return context;
}

async function provisionAll(context: StepContext): Promise<Record<string, StepOutcome>> {
  const outcomes: Record<string, StepOutcome> = {};
  for (const step of PROVISIONING_STEPS) outcomes[step.name] = await step.provision(context);
  return outcomes;
}

/** Teardown in reverse order, going on after a failure like the executor; returns the failures by step. */
async function teardownAll(context: StepContext): Promise<Record<string, Error>> {
  const failures: Record<string, Error> = {};
  for (const step of [...PROVISIONING_STEPS].reverse()) {
    try {
      await step.teardown(context);
    } catch (error) {
      failures[step.name] = error as Error;
    }
  }
  return failures;
}

function step(name: string): ProvisioningStepDefinition {
  const found = PROVISIONING_STEPS.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

async function stepError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the step to fail");
}

// Admin views of moto, straight to moto (not through the proxy, so they are not recorded).
const admin = {
  iam: () => iamClient(moto.endpoint),
  ec2: () => ec2Client(moto.endpoint, REGION),
  s3: () => s3Client(moto.endpoint, REGION),
  logs: () => logsClient(moto.endpoint, REGION),
};

interface Inventory {
  policies: string[];
  roles: string[];
  profiles: { name: string; roles: string[] }[];
  securityGroups: { name: string; id: string; vpcId: string }[];
  logGroups: string[];
  lifecycleRuleIds: string[];
}

/** Everything in the account that provisioning could have created, counted with List/Describe. */
async function inventory(): Promise<Inventory> {
  const iam = admin.iam();
  const policies = (await iam.send(new ListPoliciesCommand({ Scope: "Local" }))).Policies ?? [];
  const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? [];
  const profiles = (await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? [];
  const groups = (await admin.ec2().send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const logGroups = (await admin.logs().send(new DescribeLogGroupsCommand({}))).logGroups ?? [];
  return {
    policies: policies.map((p) => p.PolicyName!).sort(),
    roles: roles.map((r) => r.RoleName!).sort(),
    profiles: profiles.map((p) => ({ name: p.InstanceProfileName!, roles: (p.Roles ?? []).map((r) => r.RoleName!) })),
    securityGroups: groups.filter((g) => g.GroupName !== "default").map((g) => ({ name: g.GroupName!, id: g.GroupId!, vpcId: g.VpcId! })),
    logGroups: logGroups.map((g) => g.logGroupName!).sort(),
    lifecycleRuleIds: (await lifecycleRules()).map((r) => r.ID!).sort(),
  };
}

async function lifecycleRules(): Promise<LifecycleRule[]> {
  try {
    return (await admin.s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }))).Rules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchLifecycleConfiguration") return [];
    throw error;
  }
}

async function sshCidrs(groupId: string): Promise<string[]> {
  const group = (await admin.ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0];
  return (group.IpPermissions ?? [])
    .filter((p) => p.IpProtocol === "tcp" && p.FromPort === 22 && p.ToPort === 22)
    .flatMap((p) => [...(p.IpRanges ?? []).map((r) => r.CidrIp!), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6!)])
    .sort();
}

async function defaultVpcId(): Promise<string> {
  const subnets = await admin.ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }));
  return subnets.Subnets![0].VpcId!;
}

const mutatingCalls = () => calls.filter((c) => MUTATING.test(c.operation)).map((c) => c.operation);
const tagMap = (tags: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
const OUR_TAGS = { owner: "dstack", dstack_bucket: BUCKET, dstack_backend: BACKEND_ID };

describe("provision on a fresh account", () => {
  it("creates exactly the expected resources, tagged, and records each of them", async () => {
    const context = makeContext();
    const outcomes = await provisionAll(context);
    const vpcId = await defaultVpcId();
    const sgName = `dstack_security_group_${BUCKET_US}`;

    const found = await inventory();
    expect(found.policies).toEqual([`dstack_policy_${BUCKET_US}`]);
    expect(found.roles).toEqual([ROLE]);
    expect(found.profiles).toEqual([{ name: ROLE, roles: [ROLE] }]);
    expect(found.securityGroups).toEqual([{ name: sgName, id: outcomes["security-group"].resourceId, vpcId }]);
    expect(found.logGroups).toEqual([`/dstack/jobs/${BUCKET}`, `/dstack/runners/${BUCKET}`]);
    expect(found.lifecycleRuleIds).toEqual([...LIFECYCLE_RULE_IDS].sort());

    const iam = admin.iam();
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([POLICY_ARN]);
    expect(tagMap((await iam.send(new ListPolicyTagsCommand({ PolicyArn: POLICY_ARN }))).Tags)).toEqual(OUR_TAGS);
    expect(tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: ROLE }))).Tags)).toEqual(OUR_TAGS);
    // moto has no ListInstanceProfileTags; GetInstanceProfile returns the tags too.
    expect(tagMap((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: ROLE }))).InstanceProfile!.Tags)).toEqual(OUR_TAGS);
    const group = (await admin.ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [outcomes["security-group"].resourceId!] }))).SecurityGroups![0];
    expect(tagMap(group.Tags)).toEqual(OUR_TAGS);
    expect(await sshCidrs(group.GroupId!)).toEqual([...CIDRS].sort());
    for (const name of [`/dstack/jobs/${BUCKET}`, `/dstack/runners/${BUCKET}`]) {
      expect((await admin.logs().send(new ListTagsLogGroupCommand({ logGroupName: name }))).tags).toEqual(OUR_TAGS);
    }

    // The instance policy: the bucket, its log groups, its secrets, and tag-conditioned EC2.
    const version = (await iam.send(new GetPolicyCommand({ PolicyArn: POLICY_ARN }))).Policy!.DefaultVersionId!;
    const document = JSON.parse(
      decodeURIComponent((await iam.send(new GetPolicyVersionCommand({ PolicyArn: POLICY_ARN, VersionId: version }))).PolicyVersion!.Document!),
    ) as { Statement: { Action: string[]; Resource: string | string[]; Condition?: unknown }[] };
    const text = JSON.stringify(document);
    expect(text).toContain(`arn:aws:s3:::${BUCKET}/*`);
    expect(text).toContain(`log-group:/dstack/jobs/${BUCKET}:*`);
    expect(text).toContain(`log-group:/dstack/runners/${BUCKET}:*`);
    expect(text).toContain(`secret:/dstack/${BUCKET}/secrets/*`);
    const terminate = document.Statement.find((s) => s.Action.includes("ec2:TerminateInstances"))!;
    expect(terminate.Condition).toEqual({ StringEquals: { "aws:ResourceTag/dstack_bucket": BUCKET } });
    expect(text).not.toMatch(/"(s3|logs|ec2):\*"/);

    expect(outcomes["iam-policy"].resourceId).toBe(POLICY_ARN);
    expect(outcomes["iam-role"].resourceId).toBe(`arn:aws:iam::${ACCOUNT}:role/${ROLE}`);
    expect(outcomes["instance-profile"].resourceId).toBe(`arn:aws:iam::${ACCOUNT}:instance-profile/${ROLE}`);
    expect(outcomes["log-groups"].resourceId).toBe(`/dstack/jobs/${BUCKET}, /dstack/runners/${BUCKET}`);

    expect(context.recorded.map((r) => `${r.kind} ${r.identifier}`).sort()).toEqual(
      [
        `${RESOURCE_KIND.policy} ${POLICY_ARN}`,
        `${RESOURCE_KIND.role} arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
        `${RESOURCE_KIND.rolePolicyAttachment} ${ROLE}:${POLICY_ARN}`,
        `${RESOURCE_KIND.instanceProfile} arn:aws:iam::${ACCOUNT}:instance-profile/${ROLE}`,
        `${RESOURCE_KIND.securityGroup} ${outcomes["security-group"].resourceId}`,
        `${RESOURCE_KIND.logGroup} /dstack/jobs/${BUCKET}`,
        `${RESOURCE_KIND.logGroup} /dstack/runners/${BUCKET}`,
        `${RESOURCE_KIND.lifecycleRule} ${BUCKET}:dstack-abort-incomplete-multipart`,
        `${RESOURCE_KIND.lifecycleRule} ${BUCKET}:dstack-expire-tmp`,
      ].sort(),
    );
    // Every call went to the backend's region (STS to its home region) and none was retried away.
    expect(new Set(calls.map((c) => c.region))).toEqual(new Set([REGION, "us-east-1"]));
  });

  it("a second run makes no mutating AWS call and returns the same resource ids", async () => {
    const context = makeContext();
    const first = await provisionAll(context);
    const recordedAfterFirst = JSON.stringify(context.recorded);
    calls.length = 0;
    proxy.clearRequests();
    const second = await provisionAll(context);

    expect(mutatingCalls()).toEqual([]);
    expect(proxy.requests.map((r) => r.action).filter((a) => a && MUTATING.test(a))).toEqual([]);
    expect(calls.length).toBeGreaterThan(0);
    for (const name of Object.keys(first)) expect(second[name].resourceId).toBe(first[name].resourceId);
    expect(JSON.stringify(context.recorded)).toBe(recordedAfterFirst);
    expect(second["iam-role"].message).toBe("Already provisioned.");
    expect(second["security-group"].message).toBe("Already provisioned.");
    expect(second["bucket-lifecycle"].message).toBe("Already provisioned.");
    const found = await inventory();
    expect(found.policies).toHaveLength(1);
    expect(found.securityGroups).toHaveLength(1);
  });

  it("puts a subnet backend's group in that subnet's VPC, found by name and VPC", async () => {
    const { vpcId, subnetId } = await createSubnet(moto.endpoint, REGION, { cidr: "10.42.0.0/16" });
    const name = securityGroupName(BUCKET, subnetId);
    expect(name).toBe(`dstack_security_group_${subnetId.replaceAll("-", "_")}_${BUCKET_US}`);
    // A group of the same name in the default VPC must be neither used nor touched.
    const decoy = await admin.ec2().send(new CreateSecurityGroupCommand({ GroupName: name, Description: "someone else's", VpcId: await defaultVpcId() }));

    const context = makeContext({ subnetId });
    const outcome = await step("security-group").provision(context);

    expect(outcome.resourceId).not.toBe(decoy.GroupId);
    const group = (await admin.ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [outcome.resourceId!] }))).SecurityGroups![0];
    expect(group).toMatchObject({ GroupName: name, VpcId: vpcId });
    expect(await sshCidrs(decoy.GroupId!)).toEqual([]);
    expect(context.recorded).toEqual([
      { kind: RESOURCE_KIND.securityGroup, identifier: outcome.resourceId, details: { name, vpcId, region: REGION } },
    ]);
  });
});

describe("permissions", () => {
  it("provisions with actions of the seed's policy only; what teardown needs beyond it is listed", async () => {
    const seedActions = new Set(awsIamPolicyDocument(BUCKET).Statement.flatMap((statement) => statement.Action));
    await provisionAll(makeContext());
    const used = new Set(calls.map((c) => c.action));
    // sts:GetCallerIdentity needs no permission.
    expect([...used].filter((action) => !seedActions.has(action) && action !== "sts:GetCallerIdentity")).toEqual([]);

    calls.length = 0;
    const context = makeContext();
    await provisionAll(context);
    await teardownAll(context);
    const teardownActions = new Set(calls.map((c) => c.action).filter((action) => !seedActions.has(action) && action !== "sts:GetCallerIdentity"));
    expect([...teardownActions].every((action) => ACTIONS_BEYOND_SEED.includes(action))).toBe(true);
    for (const action of ACTIONS_BEYOND_SEED) expect(seedActions.has(action), action).toBe(false);
    expect(ACTIONS_BEYOND_SEED).toEqual([
      "ec2:DeleteSecurityGroup",
      "ec2:RevokeSecurityGroupIngress",
      "iam:DeleteInstanceProfile",
      "iam:DeletePolicy",
      "iam:DeleteRole",
      "iam:DetachRolePolicy",
      "iam:RemoveRoleFromInstanceProfile",
      "logs:DeleteLogGroup",
    ]);
  });
});

describe("reconciliation", () => {
  it("re-adds only an SSH rule removed behind its back, and never duplicates", async () => {
    const context = makeContext();
    const { resourceId: groupId } = await step("security-group").provision(context);
    await admin.ec2().send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "198.51.100.7/32" }] }],
      }),
    );
    calls.length = 0;
    const outcome = await step("security-group").provision(context);

    expect(mutatingCalls()).toEqual(["AuthorizeSecurityGroupIngress"]);
    expect(outcome.message).toContain("SSH allowed from 198.51.100.7/32");
    expect(await sshCidrs(groupId!)).toEqual([...CIDRS].sort());
  });

  it("follows the configured CIDRs: adds new ones, removes its own stale ones, keeps rules it did not add", async () => {
    const context = makeContext();
    const { resourceId: groupId } = await step("security-group").provision(context);
    // A rule someone added by hand, and a CIDR list that drops two of ours and adds one (in a non-canonical spelling).
    await admin.ec2().send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "192.0.2.10/32", Description: "admin laptop" }] }],
      }),
    );
    const narrowed = makeContext({ sshIngressCidrs: ["203.0.113.0/24", "10.9.8.7/8"], recorded: context.recorded });
    calls.length = 0;
    const outcome = await step("security-group").provision(narrowed);

    expect(mutatingCalls().sort()).toEqual(["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"]);
    expect(await sshCidrs(groupId!)).toEqual(["10.0.0.0/8", "192.0.2.10/32", "203.0.113.0/24"]);
    expect(outcome.message).toContain("192.0.2.10/32 (rules not added by provisioning");
  });

  it("rejects a CIDR that is not one, naming the parameter, before any AWS call", async () => {
    const error = await stepError(step("security-group").provision(makeContext({ sshIngressCidrs: ["10.0.0.0/8", "not-a-cidr"] })));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect(error.message).toContain('"not-a-cidr" in sshIngressCidrs');
    expect(calls).toEqual([]);
  });

  it("fails naming subnetId when the backend's subnet does not exist", async () => {
    const error = await stepError(step("security-group").provision(makeContext({ subnetId: "subnet-0123456789abcdef0" })));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect(error.message).toMatch(/Subnet subnet-0123456789abcdef0 \(parameter subnetId\) does not exist in eu-west-1/);
  });

  it("keeps the bucket's own lifecycle rules on provision and on teardown", async () => {
    const userRules: LifecycleRule[] = [
      { ID: "user-archive", Status: "Enabled", Filter: { Prefix: "archive/" }, Transitions: [{ Days: 30, StorageClass: "GLACIER" }] },
      { ID: "user-expire-old", Status: "Disabled", Filter: { Prefix: "old/" }, Expiration: { Days: 365 } },
    ];
    await admin.s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket: BUCKET, LifecycleConfiguration: { Rules: userRules } }));
    const before = await lifecycleRules();

    const context = makeContext();
    const outcome = await step("bucket-lifecycle").provision(context);
    expect(outcome.message).toContain("Kept the bucket's 2 other rules");
    const after = await lifecycleRules();
    expect(after.map((r) => r.ID)).toEqual(["user-archive", "user-expire-old", ...LIFECYCLE_RULE_IDS]);
    expect(after.slice(0, 2)).toEqual(before);
    expect(after.find((r) => r.ID === "dstack-expire-tmp")).toMatchObject({ Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 7 } });
    expect(after.find((r) => r.ID === "dstack-abort-incomplete-multipart")).toMatchObject({
      Status: "Enabled",
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });

    // Nothing to do the second time.
    calls.length = 0;
    await step("bucket-lifecycle").provision(context);
    expect(mutatingCalls()).toEqual([]);

    // One of ours changed behind our back: put back, the user's untouched.
    await admin.s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: BUCKET,
        LifecycleConfiguration: { Rules: [...before, { ID: "dstack-expire-tmp", Status: "Disabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } }] },
      }),
    );
    await step("bucket-lifecycle").provision(context);
    const repaired = await lifecycleRules();
    expect(repaired.slice(0, 2)).toEqual(before);
    expect(repaired.find((r) => r.ID === "dstack-expire-tmp")).toMatchObject({ Status: "Enabled", Expiration: { Days: 7 } });

    await step("bucket-lifecycle").teardown(context);
    expect(await lifecycleRules()).toEqual(before);
    expect(context.recorded).toEqual([]);
  });

  it("removes the whole lifecycle configuration on teardown when only its rules were there", async () => {
    const context = makeContext();
    await step("bucket-lifecycle").provision(context);
    calls.length = 0;
    await step("bucket-lifecycle").teardown(context);
    expect(calls.map((c) => c.operation)).toEqual(["GetBucketLifecycleConfiguration", "DeleteBucketLifecycle"]);
    expect(await lifecycleRules()).toEqual([]);
  });

  it("fails naming the bucket when it does not exist", async () => {
    const context = makeContext();
    context.backend.bucket = "no-such-bucket-here";
    const error = await stepError(step("bucket-lifecycle").provision(context));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect(error.message).toContain("Bucket no-such-bucket-here (parameter bucket) does not exist");
  });
});

describe("pre-existing resources", () => {
  it("uses what it finds without recording it, and teardown leaves it alone", async () => {
    const iam = admin.iam();
    // The user's own role (trusted by EC2, untagged) and the runners log group exist already.
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }),
    );
    await admin.logs().send(new CreateLogGroupCommand({ logGroupName: `/dstack/runners/${BUCKET}` }));

    const context = makeContext();
    const outcomes = await provisionAll(context);
    expect(outcomes["iam-role"].message).toContain("Already existed (not created by this backend");
    expect(outcomes["log-groups"].message).toContain(`/dstack/runners/${BUCKET} already existed`);
    const kinds = context.recorded.map((r) => r.kind);
    expect(kinds).not.toContain(RESOURCE_KIND.role);
    expect(context.recorded.filter((r) => r.kind === RESOURCE_KIND.logGroup).map((r) => r.identifier)).toEqual([`/dstack/jobs/${BUCKET}`]);
    // Our policy was attached to their role: that attachment is ours to undo.
    expect(kinds).toContain(RESOURCE_KIND.rolePolicyAttachment);

    // A second run still changes nothing.
    calls.length = 0;
    await provisionAll(context);
    expect(mutatingCalls()).toEqual([]);

    expect(await teardownAll(context)).toEqual({});
    expect(context.recorded).toEqual([]);
    const left = await inventory();
    expect(left).toEqual({
      policies: [],
      roles: [ROLE],
      profiles: [],
      securityGroups: [],
      logGroups: [`/dstack/runners/${BUCKET}`],
      lifecycleRuleIds: [],
    });
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE }))).AttachedPolicies).toEqual([]);
  });

  it("keeps a policy of the same name that it did not create, and says why it cannot check it", async () => {
    await admin.iam().send(
      new CreatePolicyCommand({ PolicyName: instancePolicyName(BUCKET), PolicyDocument: JSON.stringify(policy([{ Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }])) }),
    );
    const context = makeContext();
    const outcome = await step("iam-policy").provision(context);
    expect(outcome.resourceId).toBe(POLICY_ARN);
    expect(outcome.message).toContain("iam:GetPolicy");
    expect(context.recorded).toEqual([]);
    expect(await step("iam-policy").teardown(context)).toMatchObject({ skipped: true });
    expect((await inventory()).policies).toEqual([instancePolicyName(BUCKET)]);
  });

  it("refuses a role of that name that EC2 cannot assume", async () => {
    await admin.iam().send(
      new CreateRoleCommand({
        RoleName: ROLE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }),
    );
    const error = await stepError(step("iam-role").provision(makeContext()));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect(error.message).toContain("does not let EC2 (ec2.amazonaws.com) assume it");
  });

  it("adopts resources tagged for this backend that an interrupted run created but never recorded", async () => {
    // Each create succeeds, then the "process dies" before record() returns.
    const crashing = makeContext();
    let crashes = 0;
    crashing.record = async () => {
      crashes++;
      throw new Error("killed");
    };
    for (const name of ["iam-policy", "iam-role", "instance-profile", "security-group", "log-groups", "bucket-lifecycle"]) {
      await expect(step(name).provision(crashing)).rejects.toThrow("killed");
    }
    expect(crashes).toBe(6);

    const resumed = makeContext();
    await provisionAll(resumed);
    const found = await inventory();
    expect(found.policies).toHaveLength(1);
    expect(found.roles).toHaveLength(1);
    expect(found.profiles).toEqual([{ name: ROLE, roles: [ROLE] }]);
    expect(found.securityGroups).toHaveLength(1);
    expect(found.logGroups).toHaveLength(2);
    expect(found.lifecycleRuleIds).toHaveLength(2);
    const kinds = resumed.recorded.map((r) => r.kind);
    // Role, profile and group carry this backend's tags, so they are recognised as ours.
    expect(kinds).toEqual(expect.arrayContaining([RESOURCE_KIND.role, RESOURCE_KIND.instanceProfile, RESOURCE_KIND.securityGroup]));
    // Without iam:GetPolicy / logs:ListTagsForResource, the policy and the log group created before
    // the crash cannot be recognised: left unrecorded (leaked, never wrongly deleted). The runners
    // group, never reached before the crash, is created and recorded by the resumed run.
    expect(kinds).not.toContain(RESOURCE_KIND.policy);
    expect(resumed.recorded.filter((r) => r.kind === RESOURCE_KIND.logGroup).map((r) => r.identifier)).toEqual([`/dstack/runners/${BUCKET}`]);
  });
});

describe("teardown", () => {
  it("removes every recorded resource, leaves no tagged resource, and is idempotent", async () => {
    const context = makeContext();
    await provisionAll(context);
    const failures = await teardownAll(context);
    expect(failures).toEqual({});
    expect(context.recorded).toEqual([]);
    expect(await inventory()).toEqual({ policies: [], roles: [], profiles: [], securityGroups: [], logGroups: [], lifecycleRuleIds: [] });

    // Again: nothing recorded, nothing to do, no AWS call.
    calls.length = 0;
    for (const s of PROVISIONING_STEPS) expect(await s.teardown(context)).toMatchObject({ skipped: true });
    expect(calls).toEqual([]);
  });

  it("treats resources deleted behind its back as gone", async () => {
    const context = makeContext();
    await provisionAll(context);
    const records = [...context.recorded];
    await teardownAll(makeContext({ recorded: [...records] })); // someone else removed everything
    const failures = await teardownAll(context);
    expect(failures).toEqual({});
    expect(context.recorded).toEqual([]);
  });

  it("fails naming the delete permission the seed's policy lacks, says what is left behind, and finishes once granted", async () => {
    // Everything allowed except the deletes that the seed's policy does not grant (moto enforces this).
    const denied = [
      "iam:DeletePolicy",
      "iam:DeleteRole",
      "iam:DetachRolePolicy",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:DeleteInstanceProfile",
      "ec2:DeleteSecurityGroup",
      "logs:DeleteLogGroup",
    ];
    const user = await createIamUser(moto.endpoint, {
      userName: "backend",
      policy: policy([
        { Effect: "Allow", Action: "*", Resource: "*" },
        { Effect: "Deny", Action: denied, Resource: "*" },
      ]),
    });
    const credentials: AwsCredentialSource = { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
    await moto.setIamEnforcement(true);
    let context: TestContext;
    let failures: Record<string, Error>;
    try {
      context = makeContext({ credentials });
      await provisionAll(context);
      failures = await teardownAll(context);
    } finally {
      await moto.setIamEnforcement(false);
    }

    const expected: Record<string, [string, RegExp]> = {
      "log-groups": ["logs:DeleteLogGroup", /Left behind: log group \/dstack\/jobs\/team-dstack-bucket in eu-west-1/],
      "security-group": ["ec2:DeleteSecurityGroup", /Left behind: security group dstack_security_group_team_dstack_bucket \(sg-/],
      "instance-profile": ["iam:RemoveRoleFromInstanceProfile", /Left behind: instance profile dstack_role_team_dstack_bucket/],
      "iam-role": ["iam:DetachRolePolicy", /Left behind: IAM role dstack_role_team_dstack_bucket, with policy arn:.* attached\./],
      "iam-policy": ["iam:DeletePolicy", /Left behind: IAM policy arn:aws:iam::123456789012:policy\/dstack_policy_team_dstack_bucket/],
    };
    expect(Object.keys(failures).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, [action, leftBehind]] of Object.entries(expected)) {
      const error = failures[name];
      expect(error, name).toBeInstanceOf(PermanentStepError);
      expect((error as PermanentStepError).action).toBe(action);
      expect(error.message).toContain(`not allowed to perform ${action}`);
      expect(error.message).toContain(`grant ${action} to the backend's IAM user`);
      expect(error.message).toMatch(leftBehind);
    }
    // Everything a step's teardown needs is named at once, not discovered one retry at a time.
    expect(failures["iam-role"].message).toContain("Teardown of this step needs iam:DetachRolePolicy, iam:RemoveRoleFromInstanceProfile and iam:DeleteRole.");
    // The same permission missing for both log groups: one sentence listing both.
    expect(failures["log-groups"].message.match(/not allowed/g)).toHaveLength(1);
    expect(failures["log-groups"].message).toContain(`log group /dstack/jobs/${BUCKET} in ${REGION}, log group /dstack/runners/${BUCKET} in ${REGION}`);
    // The lifecycle rules needed nothing beyond the seed's policy, and are gone; the rest is still recorded.
    expect(await lifecycleRules()).toEqual([]);
    expect(context.recorded.map((r) => r.kind)).not.toContain(RESOURCE_KIND.lifecycleRule);
    expect(context.recorded.length).toBe(7);

    // Permissions granted (enforcement off): the retried teardown finishes.
    expect(await teardownAll(context)).toEqual({});
    expect(context.recorded).toEqual([]);
    expect(await inventory()).toEqual({ policies: [], roles: [], profiles: [], securityGroups: [], logGroups: [], lifecycleRuleIds: [] });
  });
});

describe("AWS failures", () => {
  it("AccessDenied on one action fails that step naming the action, and succeeds once granted", async () => {
    const context = makeContext();
    await step("iam-policy").provision(context);
    proxy.addRule({ match: on.action("CreateRole"), fault: { kind: "accessDenied" } });
    const error = await stepError(step("iam-role").provision(context));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect((error as PermanentStepError).action).toBe("iam:CreateRole");
    expect(error.message).toBe(
      `The backend's AWS credentials are not allowed to perform iam:CreateRole (creating IAM role ${ROLE}); grant iam:CreateRole to the backend's IAM user.`,
    );
    expect(context.recorded.map((r) => r.kind)).toEqual([RESOURCE_KIND.policy]);

    proxy.clearRules();
    await step("iam-role").provision(context);
    expect((await inventory()).roles).toEqual([ROLE]);
  });

  it.each([
    ["security-group", "AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress"],
    ["log-groups", "CreateLogGroup", "logs:CreateLogGroup"],
    ["bucket-lifecycle", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"],
    ["instance-profile", "CreateInstanceProfile", "iam:CreateInstanceProfile"],
  ])("%s: AccessDenied on %s names %s", async (name, operation, action) => {
    proxy.addRule({ match: on.action(operation), fault: { kind: "accessDenied" } });
    const error = await stepError(step(name).provision(makeContext()));
    expect(error).toBeInstanceOf(PermanentStepError);
    expect((error as PermanentStepError).action).toBe(action);
    expect(error.message).toContain(`grant ${action} to the backend's IAM user`);
  });

  it("rides out a throttled or failing call through the SDK's retries", async () => {
    proxy.addRule({ match: on.action("CreateRole"), fault: { kind: "throttle" }, times: 1 });
    proxy.addRule({ match: on.action("CreateSecurityGroup"), fault: { kind: "throttle" }, times: 2 });
    proxy.addRule({ match: on.action("CreateLogGroup"), fault: { kind: "serverError" }, times: 1 });
    proxy.addRule({ match: on.action("PutBucketLifecycleConfiguration"), fault: { kind: "throttle" }, times: 1 });
    const context = makeContext();
    await provisionAll(context);
    expect(proxy.requests.filter((r) => r.fault).length).toBe(5);
    const found = await inventory();
    expect(found.roles).toEqual([ROLE]);
    expect(found.securityGroups).toHaveLength(1);
    expect(found.logGroups).toHaveLength(2);
  });

  it("turns throttling that outlasts the SDK's retries into a TransientStepError, and the retried step completes", async () => {
    proxy.addRule({ match: on.action("DescribeSecurityGroups"), fault: { kind: "throttle" } });
    const context = makeContext();
    const error = await stepError(step("security-group").provision(context));
    expect(error).toBeInstanceOf(TransientStepError);
    expect(error.message).toContain("RequestLimitExceeded");
    expect(error.message).toContain("looking up security group");

    proxy.clearRules();
    await step("security-group").provision(context);
    expect((await inventory()).securityGroups).toHaveLength(1);
  });

  it("turns an unreachable endpoint into a TransientStepError, not a raw SDK error", async () => {
    proxy.addRule({ match: on.service("logs"), fault: { kind: "reset" } });
    const error = await stepError(step("log-groups").provision(makeContext()));
    expect(error).toBeInstanceOf(TransientStepError);
  });

  it("treats a just-created role not yet visible to AddRoleToInstanceProfile as IAM propagation (transient)", async () => {
    const context = makeContext();
    await step("iam-policy").provision(context);
    await step("iam-role").provision(context);
    const body =
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>' +
      `<Message>The role with name ${ROLE} cannot be found.</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
    proxy.addRule({
      match: on.action("AddRoleToInstanceProfile"),
      fault: { kind: "respond", status: 404, headers: { "content-type": "text/xml" }, body },
      times: 1,
    });
    const error = await stepError(step("instance-profile").provision(context));
    expect(error).toBeInstanceOf(TransientStepError);
    expect(error.message).toContain("propagate");
    // The profile was created and recorded before the failure; the retry only adds the role.
    expect(context.recorded.map((r) => r.kind)).toContain(RESOURCE_KIND.instanceProfile);
    calls.length = 0;
    await step("instance-profile").provision(context);
    expect(mutatingCalls()).toEqual(["AddRoleToInstanceProfile"]);
    expect((await inventory()).profiles).toEqual([{ name: ROLE, roles: [ROLE] }]);
  });

  it("records a policy or log group whose create answer was lost and that the SDK's retry found existing", async () => {
    // As seen from the service: the first CreatePolicy / CreateLogGroup attempt gets a 500 (but
    // the resource exists afterwards, as when AWS created it and the answer was lost); the SDK's
    // retry gets "already exists". That is ours, not a pre-existing resource to leave alone.
    const document = JSON.stringify(policy([{ Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }]));
    await admin.iam().send(new CreatePolicyCommand({ PolicyName: instancePolicyName(BUCKET), PolicyDocument: document }));
    await admin.logs().send(new CreateLogGroupCommand({ logGroupName: `/dstack/jobs/${BUCKET}` }));
    proxy.addRule({ match: on.action("CreatePolicy"), fault: { kind: "serverError" }, times: 1 });
    // DescribeLogGroups must not see the group yet: answer the first one as empty.
    proxy.addRule({
      match: (r) => r.action === "DescribeLogGroups" && r.body.includes("/dstack/jobs/"),
      fault: { kind: "respond", status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: '{"logGroups":[]}' },
      times: 1,
    });
    proxy.addRule({ match: (r) => r.action === "CreateLogGroup" && r.body.includes("/dstack/jobs/"), fault: { kind: "serverError" }, times: 1 });

    const context = makeContext();
    await step("iam-policy").provision(context);
    await step("log-groups").provision(context);
    expect(context.recorded.map((r) => `${r.kind} ${r.identifier}`)).toEqual([
      `${RESOURCE_KIND.policy} ${POLICY_ARN}`,
      `${RESOURCE_KIND.logGroup} /dstack/jobs/${BUCKET}`,
      `${RESOURCE_KIND.logGroup} /dstack/runners/${BUCKET}`,
    ]);
  });

  it("stops at a safe point when the server is stopping", async () => {
    const controller = new AbortController();
    const context = { ...makeContext(), signal: controller.signal };
    controller.abort();
    const error = await stepError(step("iam-role").provision(context));
    expect(error).toBeInstanceOf(TransientStepError);
    expect((await inventory()).roles).toEqual([]);
  });
});

describe("pure parts", () => {
  it("parses and canonicalises CIDRs", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ family: 4, canonical: "10.0.0.0/8" });
    expect(parseCidr("0.0.0.0/0")).toEqual({ family: 4, canonical: "0.0.0.0/0" });
    expect(parseCidr("203.0.113.7/32")).toEqual({ family: 4, canonical: "203.0.113.7/32" });
    expect(parseCidr("2001:DB8:0:0:1::/32")).toEqual({ family: 6, canonical: "2001:db8::/32" });
    expect(parseCidr("::/0")).toEqual({ family: 6, canonical: "::/0" });
    expect(parseCidr("2001:db8:0:1:0:0:0:1/128")).toEqual({ family: 6, canonical: "2001:db8:0:1::1/128" });
    for (const bad of ["10.0.0.0", "10.0.0.0/33", "300.1.1.1/8", "::/129", "abc/8", "", "10.0.0.0/8/8"]) expect(parseCidr(bad), bad).toBeNull();
  });

  it("merges lifecycle rules: the user's untouched, ours added or replaced in place", () => {
    const user: LifecycleRule = { ID: "keep", Status: "Enabled", Filter: { Prefix: "a/" }, Expiration: { Days: 3 } };
    const oldOurs: LifecycleRule = { ID: "dstack-expire-tmp", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } };
    const desired = dstackLifecycleRules();
    const merged = mergeLifecycleRules([oldOurs, user], desired);
    expect(merged.rules).toEqual([desired[1], user, desired[0]]);
    expect(merged.changed.sort()).toEqual([...LIFECYCLE_RULE_IDS].sort());
    expect(mergeLifecycleRules(merged.rules, desired).changed).toEqual([]);
    // A Filter with only a Prefix is the same rule as the old top-level Prefix.
    expect(mergeLifecycleRules(dstackLifecycleRules("prefix"), desired).changed).toEqual([]);
    expect(withoutLifecycleRules(merged.rules, LIFECYCLE_RULE_IDS)).toEqual([user]);
    expect(ruleStyleOf([{ ID: "x", Status: "Enabled", Prefix: "logs/" }])).toBe("prefix");
    expect(ruleStyleOf([user])).toBe("filter");
  });

  it("recognises trust policies that let EC2 assume a role", () => {
    const doc = (principal: unknown, action: unknown = "sts:AssumeRole") =>
      encodeURIComponent(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: principal }, Action: action }] }));
    expect(trustsEc2(doc("ec2.amazonaws.com"))).toBe(true);
    expect(trustsEc2(doc(["lambda.amazonaws.com", "ec2.amazonaws.com"], ["sts:AssumeRole", "sts:TagSession"]))).toBe(true);
    expect(trustsEc2(doc("lambda.amazonaws.com"))).toBe(false);
    expect(trustsEc2(undefined)).toBe(false);
  });

  it("names resources as dstack did", () => {
    expect(instanceRoleName("my-awesome-project")).toBe("dstack_role_my_awesome_project");
    expect(instancePolicyName("my-awesome-project")).toBe("dstack_policy_my_awesome_project");
    expect(securityGroupName("my-bucket", null)).toBe("dstack_security_group_my_bucket");
    expect(securityGroupName("my-bucket", "subnet-0abc")).toBe("dstack_security_group_subnet_0abc_my_bucket");
  });

  it("recognises EC2's IAM propagation errors", () => {
    const error = Object.assign(new Error("Value (dstack_role_x) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"), {
      name: "InvalidParameterValue",
    });
    const kind = (e: Error) => classifyAwsError(e, "ec2", "RunInstances").kind;
    expect(kind(error)).toBe("INSTANCE_PROFILE_NOT_READY");
    expect(kind(Object.assign(new Error("Invalid value for InstanceType"), { name: "InvalidParameterValue" }))).not.toBe("INSTANCE_PROFILE_NOT_READY");
  });

  it("lists the steps in order", () => {
    expect(PROVISIONING_STEPS.map((s) => s.name)).toEqual(["iam-policy", "iam-role", "instance-profile", "security-group", "log-groups", "bucket-lifecycle"]);
  });
});

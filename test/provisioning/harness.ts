// Shared pieces of the provisioning run tests (runs, resume, processes, subscription,
// least-privilege): backends with a chosen IAM policy, an inventory of what exists in moto for a
// bucket (counted with List/Describe calls, straight to moto with admin keys), recorders for the
// server's AWS calls, a seeded random source for the fault proxy, and server child processes.
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DescribeLogGroupsCommand, ListTagsLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type SecurityGroup } from "@aws-sdk/client-ec2";
import {
  GetInstanceProfileCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
} from "@aws-sdk/client-iam";
import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand, type LifecycleRule } from "@aws-sdk/client-s3";
import { expect } from "vitest";
import type { AwsCallRecord } from "../../src/aws/clients.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { DUMMY_KEYS, ec2Client, iamClient, logsClient, s3Client, type StaticKeys } from "../support/moto-iam.js";
import { TEST_ADMIN_TOKEN } from "../support/server.js";
import { RUN } from "./support.js";

export const STEP_NAMES = ["iam-policy", "iam-role", "instance-profile", "security-group", "log-groups", "bucket-lifecycle"] as const;

/** Operations that change something in AWS. */
export const MUTATING = /^(Create|Put|Attach|Add|Authorize|Tag|Delete|Detach|Remove|Revoke|Update|Run|Terminate)/;

/** The operations each step may make; a step that was not re-executed made none of them. */
export const STEP_OPERATIONS: Record<(typeof STEP_NAMES)[number], string[]> = {
  "iam-policy": ["GetCallerIdentity", "CreatePolicy"],
  "iam-role": ["GetRole", "CreateRole", "TagRole", "AttachRolePolicy"],
  "instance-profile": ["GetInstanceProfile", "CreateInstanceProfile", "TagInstanceProfile", "AddRoleToInstanceProfile"],
  "security-group": ["DescribeSubnets", "DescribeSecurityGroups", "CreateSecurityGroup", "CreateTags", "AuthorizeSecurityGroupIngress"],
  "log-groups": ["DescribeLogGroups", "CreateLogGroup"],
  "bucket-lifecycle": ["GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration"],
};

/** The first AWS operation of each step on a fresh account (as the fault proxy names it). */
export const FIRST_OPERATION: Record<(typeof STEP_NAMES)[number], string> = {
  "iam-policy": "GetCallerIdentity",
  "iam-role": "GetRole",
  "instance-profile": "GetInstanceProfile",
  "security-group": "DescribeSubnets",
  "log-groups": "DescribeLogGroups",
  "bucket-lifecycle": "GetBucketLifecycleConfiguration",
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Mulberry32: a small seeded PRNG, so fault injection "by probability" is the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Collects the AWS calls a server makes (through its awsMiddleware). */
export class CallRecorder {
  readonly calls: AwsCallRecord[] = [];
  readonly middleware = (call: AwsCallRecord) => {
    this.calls.push(call);
  };
  clear() {
    this.calls.length = 0;
  }
  operations(): string[] {
    return this.calls.map((c) => c.operation);
  }
  mutating(): string[] {
    return this.operations().filter((operation) => MUTATING.test(operation));
  }
}

export const bucketUs = (bucket: string) => bucket.replaceAll("-", "_");

/** A lifecycle rule of the bucket owner's own ("users-own"), which provisioning must keep next to its rules. */
export async function putUsersOwnLifecycleRule(endpoint: string, region: string, bucket: string): Promise<void> {
  const s3 = s3Client(endpoint, region);
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [{ ID: "users-own", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 30 } }] },
    }),
  );
  s3.destroy();
}

/** The run as provisioningRun shows it. */
export async function readRun(client: GraphQLClient, runId: string): Promise<any> {
  return (await client.ok(RUN, { id: runId })).provisioningRun;
}

export const attemptsOf = (run: { steps: { name: string; attempts: number }[] }) => Object.fromEntries(run.steps.map((s) => [s.name, s.attempts]));

/** A run and its steps straight from the database (while no server is running). */
export async function runFromDatabase(databaseUrl: string, runId: string): Promise<{ status: string; steps: { name: string; status: string; attempts: number }[] }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const run = await client.query<{ status: string }>(`SELECT status FROM "ProvisioningRun" WHERE id = $1`, [runId]);
    const steps = await client.query<{ name: string; status: string; attempts: number }>(
      `SELECT name, status, attempts FROM "ProvisioningStep" WHERE "runId" = $1 ORDER BY position`,
      [runId],
    );
    return { status: run.rows[0]!.status, steps: steps.rows };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// What exists in moto

type Tags = Record<string, string>;
const tagMap = (tags: { Key?: string; Value?: string }[] | undefined): Tags => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));

export interface Inventory {
  policies: { name: string; arn: string; tags: Tags }[];
  roles: { name: string; tags: Tags; attached: string[] }[];
  profiles: { name: string; roles: string[]; tags: Tags }[];
  securityGroups: { name: string; id: string; vpcId: string; tags: Tags; ssh: string[] }[];
  logGroups: { name: string; tags: Tags }[];
  lifecycleRules: LifecycleRule[];
}

function sshCidrs(group: SecurityGroup): string[] {
  return (group.IpPermissions ?? [])
    .filter((p) => p.IpProtocol === "tcp" && p.FromPort === 22 && p.ToPort === 22)
    .flatMap((p) => [...(p.IpRanges ?? []).map((r) => r.CidrIp!), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6!)])
    .sort();
}

/**
 * Everything in the account that provisioning could have created for `bucket`: by its names, or
 * (`byTag`) by the tag dstack_bucket=<bucket> whatever its name. Lifecycle rules: all the
 * bucket's rules (the user's included).
 */
export async function inventory(endpoint: string, region: string, bucket: string, options: { byTag?: boolean; keys?: StaticKeys } = {}): Promise<Inventory> {
  const keys = options.keys ?? DUMMY_KEYS;
  const us = bucketUs(bucket);
  const iam = iamClient(endpoint, keys);
  const ec2 = ec2Client(endpoint, region, keys);
  const logs = logsClient(endpoint, region, keys);
  const s3 = s3Client(endpoint, region, keys);
  try {
    const ours = (tags: Tags) => tags.dstack_bucket === bucket;

    const policies: Inventory["policies"] = [];
    for (const p of (await iam.send(new ListPoliciesCommand({ Scope: "Local", MaxItems: 1000 }))).Policies ?? []) {
      const tags = tagMap((await iam.send(new ListPolicyTagsCommand({ PolicyArn: p.Arn! }))).Tags);
      if (options.byTag ? ours(tags) : p.PolicyName === `dstack_policy_${us}`) policies.push({ name: p.PolicyName!, arn: p.Arn!, tags });
    }
    const roles: Inventory["roles"] = [];
    for (const r of (await iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? []) {
      const tags = tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName! }))).Tags);
      if (!(options.byTag ? ours(tags) : r.RoleName === `dstack_role_${us}`)) continue;
      const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName! }))).AttachedPolicies ?? [];
      roles.push({ name: r.RoleName!, tags, attached: attached.map((a) => a.PolicyArn!).sort() });
    }
    const profiles: Inventory["profiles"] = [];
    for (const p of (await iam.send(new ListInstanceProfilesCommand({ MaxItems: 1000 }))).InstanceProfiles ?? []) {
      // moto has no ListInstanceProfileTags; GetInstanceProfile returns the tags.
      const full = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName! }))).InstanceProfile!;
      const tags = tagMap(full.Tags);
      if (!(options.byTag ? ours(tags) : p.InstanceProfileName === `dstack_role_${us}`)) continue;
      profiles.push({ name: p.InstanceProfileName!, roles: (full.Roles ?? []).map((r) => r.RoleName!), tags });
    }
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    const securityGroups = groups
      .filter((g) =>
        options.byTag
          ? ours(tagMap(g.Tags))
          : g.GroupName === `dstack_security_group_${us}` || (g.GroupName!.startsWith("dstack_security_group_subnet_") && g.GroupName!.endsWith(`_${us}`)),
      )
      .map((g) => ({ name: g.GroupName!, id: g.GroupId!, vpcId: g.VpcId!, tags: tagMap(g.Tags), ssh: sshCidrs(g) }));
    const logGroups: Inventory["logGroups"] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new DescribeLogGroupsCommand({ nextToken }));
      for (const g of page.logGroups ?? []) {
        const tags = ((await logs.send(new ListTagsLogGroupCommand({ logGroupName: g.logGroupName! }))).tags ?? {}) as Tags;
        const named = g.logGroupName === `/dstack/jobs/${bucket}` || g.logGroupName === `/dstack/runners/${bucket}`;
        if (options.byTag ? ours(tags) : named) logGroups.push({ name: g.logGroupName!, tags });
      }
      nextToken = page.nextToken || undefined;
    } while (nextToken);
    let lifecycleRules: LifecycleRule[] = [];
    try {
      lifecycleRules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    } catch (error) {
      if ((error as { name?: string }).name !== "NoSuchLifecycleConfiguration") throw error;
    }
    return { policies, roles, profiles, securityGroups, logGroups: logGroups.sort((a, b) => a.name.localeCompare(b.name)), lifecycleRules };
  } finally {
    iam.destroy();
    ec2.destroy();
    logs.destroy();
    s3.destroy();
  }
}

export const OUR_RULE_IDS = ["dstack-abort-incomplete-multipart", "dstack-expire-tmp"];

/**
 * Asserts that exactly one of each provisioned resource exists for the backend, tagged for it:
 * one policy, one role (with that policy attached once), one profile holding the role, one
 * security group with one SSH rule per CIDR, two log groups, our two lifecycle rules once each
 * (next to `userRules` of the bucket's own, kept).
 */
export function expectProvisionedOnce(found: Inventory, options: { bucket: string; backendId: string; cidrs?: string[]; userRuleIds?: string[]; vpcId?: string }) {
  const us = bucketUs(options.bucket);
  const tags = { owner: "dstack", dstack_bucket: options.bucket, dstack_backend: options.backendId };
  const policyArn = `arn:aws:iam::123456789012:policy/dstack_policy_${us}`;
  expect(found.policies).toEqual([{ name: `dstack_policy_${us}`, arn: policyArn, tags }]);
  expect(found.roles).toEqual([{ name: `dstack_role_${us}`, tags, attached: [policyArn] }]);
  expect(found.profiles).toEqual([{ name: `dstack_role_${us}`, roles: [`dstack_role_${us}`], tags }]);
  expect(found.securityGroups).toHaveLength(1);
  expect(found.securityGroups[0]).toMatchObject({ tags, ssh: [...(options.cidrs ?? ["0.0.0.0/0"])].sort() });
  if (options.vpcId) expect(found.securityGroups[0].vpcId).toBe(options.vpcId);
  expect(found.logGroups).toEqual([
    { name: `/dstack/jobs/${options.bucket}`, tags },
    { name: `/dstack/runners/${options.bucket}`, tags },
  ]);
  expect(found.lifecycleRules.map((r) => r.ID).sort()).toEqual([...OUR_RULE_IDS, ...(options.userRuleIds ?? [])].sort());
}

/** Counts per kind, for "nothing is left" and "nothing was doubled" assertions. */
export function counts(found: Inventory) {
  return {
    policies: found.policies.length,
    roles: found.roles.length,
    profiles: found.profiles.length,
    securityGroups: found.securityGroups.length,
    logGroups: found.logGroups.length,
    ourLifecycleRules: found.lifecycleRules.filter((r) => OUR_RULE_IDS.includes(r.ID ?? "")).length,
  };
}

export async function defaultVpcId(endpoint: string, region: string, keys: StaticKeys = DUMMY_KEYS): Promise<string> {
  const ec2 = ec2Client(endpoint, region, keys);
  try {
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }));
    return subnets.Subnets![0].VpcId!;
  } finally {
    ec2.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The server as a child process (server-process.mjs), for SIGKILL and for two real processes

export interface ServerProcess {
  url: string;
  pid: number;
  /** AWS calls the child made, as its awsMiddleware saw them (sent over IPC). */
  calls: AwsCallRecord[];
  /** Its JSON log lines. */
  logs: string[];
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown of any kind. */
  kill(): Promise<void>;
  /** Graceful stop (interrupts runs at the next step boundary), then the process exits. */
  close(): Promise<void>;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHILD_SCRIPT = path.join(REPO_ROOT, "test/provisioning/server-process.mjs");
let bundle: Promise<string> | undefined;

/**
 * The server's sources bundled once per test process with Vite (the transform vitest uses, so
 * decorators and their metadata come out the same), node_modules left external. A child then
 * starts in about a second instead of transforming the sources itself. The bundle lives two
 * levels under the repository (.data/<dir>/), where its relative paths (prisma/migrations) and
 * bare imports (node_modules) resolve as they do from src/<dir>/.
 */
function serverBundle(): Promise<string> {
  bundle ??= (async () => {
    const { build } = await import("vite");
    const outDir = path.join(REPO_ROOT, ".data", `test-server-bundle-${process.pid}`);
    await build({
      configFile: false,
      root: REPO_ROOT,
      logLevel: "warn",
      build: {
        ssr: true,
        outDir,
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        rollupOptions: {
          input: { app: path.join(REPO_ROOT, "src/server/app.ts"), config: path.join(REPO_ROOT, "src/config/config.ts") },
          output: { format: "es", entryFileNames: "[name].mjs" },
        },
      },
    });
    return outDir;
  })();
  return bundle;
}

/** Deletes the bundle (call in afterAll of a file that started server processes). */
export async function removeServerBundle(): Promise<void> {
  if (!bundle) return;
  const dir = await bundle.catch(() => undefined);
  bundle = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** Starts the real server in a child process; configuration from `env` (loadConfig). */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const bundleDir = await serverBundle();
  const child: ChildProcess = fork(CHILD_SCRIPT, [], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: "info",
      DATA_DIR: ".data/test",
      ...env,
      SERVER_BUNDLE_DIR: bundleDir,
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    execArgv: [], // not the test worker's flags
  });
  const calls: AwsCallRecord[] = [];
  const logs: string[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    logs.push(...lines.filter(Boolean));
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let closed: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.on("message", (message: { type: string; url?: string; call?: AwsCallRecord; error?: string }) => {
      if (message.type === "ready") resolve(message.url!);
      else if (message.type === "aws") calls.push(message.call!);
      else if (message.type === "closed") closed?.();
      else if (message.type === "failed") reject(new Error(`server process failed to start: ${message.error}\n${stderr}`));
    });
    void exited.then((code) => reject(new Error(`server process exited (${code}) before it was ready:\n${stderr}\n${logs.slice(-20).join("\n")}`)));
  });
  return {
    url,
    pid: child.pid!,
    calls,
    logs,
    exited,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => (closed = resolve));
      child.send({ type: "close" });
      await Promise.race([done, exited]);
      await exited;
    },
  };
}

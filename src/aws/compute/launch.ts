// RunInstances for one on-demand or spot instance, such that no retry can ever launch twice:
// - every attempt sends the same EC2 ClientToken (AWS returns the first launch for a repeated token,
//   including the SDK's own retries after a timeout);
// - the token is also a tag, and each call first looks for an instance carrying it, so a caller
//   that lost the answer (timeout, crash, restart) gets the existing instance back without a second
//   RunInstances. (moto ignores ClientToken, so under moto this lookup is what keeps it to one.)
import { createHash } from "node:crypto";
import type { _InstanceType, RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import type { AwsSession } from "../discovery.js";
import { attempt, isRetryable, localFailure, type AwsResult } from "../errors.js";
import { retryResult } from "../retry.js";
import { toInstanceInfo } from "./describe.js";
import { BUCKET_TAG, CLIENT_TOKEN_TAG, toTagList } from "../names.js";
import { sdk } from "../sdk.js";

export type InstanceMarket = "ON_DEMAND" | "SPOT";

export interface RunInstanceInput {
  /** Derived from the Instance record: the same launch always uses the same token. */
  clientToken: string;
  instanceType: string;
  imageId: string;
  /** The image's root device (ResolvedImage.rootDeviceName); looked up with DescribeImages when absent. */
  rootDeviceName?: string | null;
  market: InstanceMarket;
  /** Without it, EC2 picks a default subnet of the default VPC. */
  subnetId?: string | null;
  /** Only with subnetId (default true): the instance needs a public address to be reached over SSH. */
  associatePublicIp?: boolean;
  securityGroupId: string;
  instanceProfileName: string;
  diskGiB: number;
  /** Base64 user data (buildUserData). */
  userData: string;
  /** Must include dstack_bucket: without it the instance could never be terminated under the seed's policy. */
  tags: Record<string, string>;
}

export interface LaunchedInstance {
  instanceId: string;
  /** Set by AWS for spot launches (moto leaves it out). */
  spotRequestId: string | null;
  /** EC2's state name at launch, usually "pending". */
  state: string;
  /** The ClientToken actually sent (see normalizeClientToken). */
  clientToken: string;
  /** True when an instance launched earlier with this token was found and returned, without a new RunInstances. */
  reused: boolean;
}

/** EC2 allows up to 64 ASCII characters, and a tag value allows fewer characters still. */
const TOKEN = /^[A-Za-z0-9_.:/=+\-@]{1,64}$/;

/** The token as sent: itself when it fits both EC2's and the tag's rules, else its SHA-256 (64 hex digits). */
export function normalizeClientToken(token: string): string {
  return TOKEN.test(token) ? token : createHash("sha256").update(token).digest("hex");
}

/** Bounds EC2 accepts for a gp3 root volume. */
const MIN_DISK_GIB = 8;
const MAX_DISK_GIB = 16_384;
/** EC2's limit is 16 KB before base64. */
const MAX_USER_DATA_BYTES = 16 * 1024;

function inputProblem(input: RunInstanceInput): string | null {
  if (!input.clientToken) return "A client token is required.";
  if (!input.tags[BUCKET_TAG]) return `The instance must be tagged ${BUCKET_TAG}: the seed's policy only lets the backend terminate instances with that tag.`;
  if (!input.instanceType) return "An instance type is required.";
  if (!/^ami-[0-9a-f]{8,17}$/.test(input.imageId)) return `"${input.imageId}" is not an AMI id.`;
  if (input.market !== "ON_DEMAND" && input.market !== "SPOT") return `Unknown market "${String(input.market)}".`;
  if (!Number.isInteger(input.diskGiB) || input.diskGiB < MIN_DISK_GIB || input.diskGiB > MAX_DISK_GIB) {
    return `The disk size must be a whole number of GiB from ${MIN_DISK_GIB} to ${MAX_DISK_GIB} (got ${input.diskGiB}).`;
  }
  if (Buffer.from(input.userData, "base64").length > MAX_USER_DATA_BYTES) return "The user data is larger than EC2's 16 KB limit.";
  if (!input.securityGroupId || !input.instanceProfileName) return "A security group and an instance profile are required.";
  return null;
}

/** The RunInstances input for a launch (exported so tests can check it field by field). */
export function runInstancesInput(input: RunInstanceInput, clientToken: string, rootDeviceName: string): RunInstancesCommandInput {
  const tags = toTagList({ ...input.tags, [CLIENT_TOKEN_TAG]: clientToken });
  const spot = input.market === "SPOT";
  return {
    ClientToken: clientToken,
    ImageId: input.imageId,
    InstanceType: input.instanceType as _InstanceType, // newer types than the SDK knows are valid too
    MinCount: 1,
    MaxCount: 1,
    IamInstanceProfile: { Name: input.instanceProfileName },
    UserData: input.userData,
    ...(input.subnetId
      ? {
          NetworkInterfaces: [
            {
              DeviceIndex: 0,
              SubnetId: input.subnetId,
              Groups: [input.securityGroupId],
              AssociatePublicIpAddress: input.associatePublicIp ?? true,
              DeleteOnTermination: true,
            },
          ],
        }
      : { SecurityGroupIds: [input.securityGroupId] }),
    BlockDeviceMappings: [{ DeviceName: rootDeviceName, Ebs: { VolumeSize: input.diskGiB, VolumeType: "gp3", DeleteOnTermination: true } }],
    // A shutdown from inside ends the instance instead of leaving a stopped one that still costs its disk.
    InstanceInitiatedShutdownBehavior: "terminate",
    // IMDSv2 only; hop limit 2 so containers on the instance can still reach it.
    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled", HttpPutResponseHopLimit: 2 },
    ...(spot
      ? { InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } } }
      : {}),
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags },
      // The seed's policy cancels spot requests only when they carry dstack_bucket.
      ...(spot ? [{ ResourceType: "spot-instances-request" as const, Tags: tags }] : []),
    ],
  };
}

/**
 * The instance an earlier launch with this token started, if EC2 lists one (null: none listed), or
 * the failure of the lookup. For callers that must not mistake "could not look" for "none".
 */
export async function lookupByToken(session: AwsSession, region: string, clientToken: string): Promise<AwsResult<LaunchedInstance | null>> {
  const { DescribeInstancesCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const result = await attempt("ec2", "DescribeInstances", () =>
    ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${CLIENT_TOKEN_TAG}`, Values: [clientToken] }], MaxResults: 1000 })),
  );
  if (!result.ok) return result;
  const instances = (result.value.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.InstanceId);
  // Oldest first: should two ever exist, the caller keeps tracking the first.
  instances.sort((a, b) => (a.LaunchTime?.getTime() ?? 0) - (b.LaunchTime?.getTime() ?? 0));
  const first = instances[0];
  if (!first) return { ok: true, value: null };
  const info = toInstanceInfo(first);
  return { ok: true, value: { instanceId: info.instanceId, spotRequestId: info.spotRequestId, state: info.state, clientToken, reused: true } };
}

/** The instance an earlier launch with this token started, if EC2 lists one. Failures count as "none found". */
export async function findByToken(session: AwsSession, region: string, clientToken: string): Promise<LaunchedInstance | null> {
  const found = await lookupByToken(session, region, clientToken);
  return found.ok ? found.value : null; // RunInstances' ClientToken still guards against a second launch on AWS
}

async function rootDeviceOf(session: AwsSession, region: string, imageId: string): Promise<AwsResult<string>> {
  const { DescribeImagesCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const result = await attempt("ec2", "DescribeImages", () => ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
  if (!result.ok) {
    if (result.error.kind !== "NOT_FOUND") return result;
    return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "DescribeImages", result.error.code, `Image ${imageId} does not exist in ${region}.`) };
  }
  const device = result.value.Images?.find((image) => image.ImageId === imageId)?.RootDeviceName;
  if (!device) return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "DescribeImages", "InvalidAMIID.NotFound", `Image ${imageId} does not exist in ${region}.`) };
  return { ok: true, value: device };
}

/**
 * Launches one instance (or returns the one an earlier call with the same token launched).
 * Failures: INVALID_INPUT (checked before any call), INSTANCE_PROFILE_NOT_READY (IAM propagation;
 * retry with the same token), NO_CAPACITY (with AWS's reason), INSTANCE_TYPE_UNAVAILABLE, and the
 * classified AWS kinds (TRANSIENT: retry with the same token).
 */
export async function runInstance(session: AwsSession, region: string, input: RunInstanceInput): Promise<AwsResult<LaunchedInstance>> {
  const problem = inputProblem(input);
  if (problem) return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "RunInstances", "InvalidLaunchInput", problem) };
  const clientToken = normalizeClientToken(input.clientToken);

  const existing = await findByToken(session, region, clientToken);
  if (existing) return { ok: true, value: existing };

  let rootDeviceName = input.rootDeviceName ?? null;
  if (!rootDeviceName) {
    const device = await rootDeviceOf(session, region, input.imageId);
    if (!device.ok) return device;
    rootDeviceName = device.value;
  }

  const { RunInstancesCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const result = await attempt("ec2", "RunInstances", () => ec2.send(new RunInstancesCommand(runInstancesInput(input, clientToken, rootDeviceName))));
  if (!result.ok) return result;
  const instance = result.value.Instances?.[0];
  if (!instance?.InstanceId) {
    return { ok: false, error: localFailure("OTHER", "ec2", "RunInstances", "NoInstanceReturned", "RunInstances answered without an instance.") };
  }
  return {
    ok: true,
    value: {
      instanceId: instance.InstanceId,
      spotRequestId: instance.SpotInstanceRequestId ?? null,
      state: instance.State?.Name ?? "pending",
      clientToken,
      reused: false,
    },
  };
}

export interface LaunchRetryOptions {
  /** Total time allowed for retries. Default 120 s (IAM propagation usually takes ~10 s, rarely 2 min). */
  maxWaitMs?: number;
  /** First delay, doubled each time up to maxDelayMs. Defaults 2 s and 15 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * runInstance, retried with the same token while the failure is INSTANCE_PROFILE_NOT_READY or
 * TRANSIENT, within `maxWaitMs`. Retrying can never launch twice (same token, lookup by tag).
 */
export async function launchWithRetry(
  session: AwsSession,
  region: string,
  input: RunInstanceInput,
  options: LaunchRetryOptions = {},
): Promise<AwsResult<LaunchedInstance & { attempts: number }>> {
  const { result, attempts } = await retryResult(() => runInstance(session, region, input), isRetryable, {
    maxWaitMs: options.maxWaitMs ?? 120_000,
    delayMs: options.initialDelayMs ?? 2_000,
    maxDelayMs: options.maxDelayMs ?? 15_000,
  });
  return result.ok ? { ok: true, value: { ...result.value, attempts } } : result;
}

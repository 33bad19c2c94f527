// Launching, describing and terminating instances against moto_server, with the fault proxy for
// what moto cannot do (timeouts after the launch happened, IAM propagation errors, capacity errors).
// moto gaps worked around here (moto.md §3.2): RunInstances ignores ClientToken and creates no spot
// request for spot launches; RequestSpotInstances is fulfilled at once; a cancelled request vanishes.
import http from "node:http";
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { createAwsClientFactory } from "../../src/aws/clients.js";
import type { AwsSession } from "../../src/aws/discovery.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { resolveImage, CANONICAL_OWNER_ID } from "../../src/aws/compute/images.js";
import {
  buildUserData,
  CLIENT_TOKEN_TAG,
  describeInstances,
  describeSpotRequests,
  instanceTags,
  launchWithRetry,
  mapInstanceStatus,
  runInstance,
  terminateInstance,
  type RunInstanceInput,
} from "../../src/aws/compute/instances.js";
import { on, sendTo, type ProxiedRequest } from "../support/fault-proxy.js";
import { useAwsClient, useAwsSession, useFaultProxy, useMoto } from "../support/fixtures.js";
import { createSubnet, ec2Client, iamClient } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const BUCKET = "my-bucket";
const PROFILE = "dstack_role_my_bucket";
const SSH_KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")} alice@laptop`;
const XENIAL = { namePattern: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*", owner: CANONICAL_OWNER_ID };

const moto = useMoto();
const proxy = useFaultProxy(moto);
const { calls, session } = useAwsSession(moto);
const inspect = useAwsClient(() => ec2Client(moto.endpoint, REGION));

/** What provisioning would have created: role + instance profile, and the security group. */
async function provision(options: { subnet?: boolean } = {}) {
  const iam = iamClient(moto.endpoint);
  await iam.send(new CreateRoleCommand({ RoleName: PROFILE, AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: PROFILE }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: PROFILE, RoleName: PROFILE }));
  iam.destroy();
  const network = options.subnet ? await createSubnet(moto.endpoint, REGION, { public: true }) : null;
  const group = await inspect.send(
    new CreateSecurityGroupCommand({ GroupName: "dstack_security_group_my_bucket", Description: "test", ...(network ? { VpcId: network.vpcId } : {}) }),
  );
  const image = await resolveImage(session, REGION, XENIAL);
  if (!image.ok) throw new Error(image.error.message);
  const userData = buildUserData(SSH_KEY);
  if (!userData.ok) throw new Error(userData.message);
  return { securityGroupId: group.GroupId!, subnetId: network?.subnetId ?? null, image: image.value, userData: userData.value };
}

async function launchInput(overrides: Partial<RunInstanceInput> = {}, options: { subnet?: boolean } = {}): Promise<RunInstanceInput> {
  const p = await provision(options);
  return {
    clientToken: "instance-rec-0001",
    instanceType: "g4dn.xlarge",
    imageId: p.image.imageId,
    rootDeviceName: p.image.rootDeviceName,
    market: "ON_DEMAND",
    subnetId: p.subnetId,
    securityGroupId: p.securityGroupId,
    instanceProfileName: PROFILE,
    diskGiB: 120,
    userData: p.userData,
    tags: instanceTags({ name: "train-1", bucket: BUCKET, backendId: "backend-1", projectId: "project-1" }),
    ...overrides,
  };
}

async function allInstances() {
  const out = await inspect.send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/** A spot request made straight in moto (which fulfils it at once), its request tagged for `bucket`. */
function requestSpot(instanceType: "g4dn.xlarge" | "t3.micro", bucket: string) {
  return inspect.send(
    new RequestSpotInstancesCommand({
      InstanceCount: 1,
      Type: "one-time",
      LaunchSpecification: { ImageId: "ami-785db401", InstanceType: instanceType },
      TagSpecifications: [{ ResourceType: "spot-instances-request", Tags: [{ Key: "dstack_bucket", Value: bucket }] }],
    }),
  );
}

const runInstancesRequests = () => proxy.requests.filter((r) => r.action === "RunInstances");
const tokenOf = (request: ProxiedRequest) => new URLSearchParams(request.body).get("ClientToken");

function ec2ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>fault</RequestID></Response>`;
}

describe("runInstance", () => {
  it("launches on-demand with the instance profile, security group, root volume, user data and all tags", async () => {
    const input = await launchInput();
    const result = await runInstance(session, REGION, input);
    expect(result).toMatchObject({ ok: true, value: { spotRequestId: null, state: "pending", reused: false, clientToken: "instance-rec-0001" } });
    const instanceId = result.ok ? result.value.instanceId : "";

    const [instance] = await allInstances();
    expect(instance.InstanceId).toBe(instanceId);
    expect(instance.InstanceType).toBe("g4dn.xlarge");
    expect(instance.ImageId).toBe("ami-785db401");
    expect(instance.InstanceLifecycle).toBeUndefined();
    expect(instance.IamInstanceProfile?.Arn).toBe(`arn:aws:iam::123456789012:instance-profile/${PROFILE}`);
    expect(instance.SecurityGroups?.map((g) => g.GroupId)).toEqual([input.securityGroupId]);
    const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({
      Name: "train-1",
      owner: "dstack",
      dstack_bucket: BUCKET,
      dstack_backend: "backend-1",
      dstack_project: "project-1",
      [CLIENT_TOKEN_TAG]: "instance-rec-0001",
    });
    const root = instance.BlockDeviceMappings?.find((m) => m.DeviceName === "/dev/sda1");
    const volumes = await inspect.send(new DescribeVolumesCommand({ VolumeIds: [root!.Ebs!.VolumeId!] }));
    expect(volumes.Volumes?.[0]).toMatchObject({ Size: 120 });
    expect(Object.fromEntries((volumes.Volumes?.[0].Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ dstack_bucket: BUCKET, owner: "dstack" });

    // Only actions of the seed's IAM policy (DescribeInstances is the lookup by client token).
    const granted = new Set(awsIamPolicyDocument(BUCKET).Statement.flatMap((s) => s.Action));
    const used = calls.map((c) => c.action);
    expect(used).toContain("ec2:RunInstances");
    expect(used.every((action) => granted.has(action))).toBe(true);
  });

  it("launches spot: one-time, terminate on interruption, tags for the spot request too", async () => {
    const input = await launchInput({ market: "SPOT", clientToken: "instance-rec-spot" });
    proxy.clearRequests();
    const viaProxy: AwsSession = { factory: createAwsClientFactory({ endpoint: proxy.endpoint }), credentials: session.credentials };
    const result = await runInstance(viaProxy, REGION, input);
    viaProxy.factory.destroy();
    expect(result.ok).toBe(true);

    const [instance] = await allInstances();
    expect(instance.InstanceLifecycle).toBe("spot"); // moto: no spot request, no SpotInstanceRequestId
    expect(instance.IamInstanceProfile?.Arn).toContain(PROFILE);
    // moto ignores SpotOptions and spot-request tags: check what was sent instead.
    const sent = new URLSearchParams(runInstancesRequests()[0].body);
    expect(sent.get("InstanceMarketOptions.MarketType")).toBe("spot");
    expect(sent.get("InstanceMarketOptions.SpotOptions.SpotInstanceType")).toBe("one-time");
    expect(sent.get("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior")).toBe("terminate");
    const resourceTypes = [...sent.entries()].filter(([k]) => /^TagSpecification\.\d+\.ResourceType$/.test(k)).map(([, v]) => v);
    expect(resourceTypes).toEqual(["instance", "volume", "spot-instances-request"]);
    const bucketTagged = [...sent.entries()].filter(([k, v]) => /^TagSpecification\.3\.Tag\.\d+\.Value$/.test(k) && v === BUCKET);
    expect(bucketTagged).toHaveLength(1);
    expect(sent.get("MetadataOptions.HttpTokens")).toBe("required");
    expect(sent.get("InstanceInitiatedShutdownBehavior")).toBe("terminate");
  });

  it("uses a network interface in the backend's subnet when it has one", async () => {
    const input = await launchInput({}, { subnet: true });
    const result = await runInstance(session, REGION, input);
    expect(result.ok).toBe(true);
    const [instance] = await allInstances();
    expect(instance.SubnetId).toBe(input.subnetId);
    expect(instance.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toContain(input.securityGroupId);
  });

  it("finds the root device from the image when not given", async () => {
    const input = await launchInput({ rootDeviceName: null });
    expect((await runInstance(session, REGION, input)).ok).toBe(true);
    expect(calls.map((c) => c.operation)).toContain("DescribeImages");
    const [instance] = await allInstances();
    expect(instance.BlockDeviceMappings?.map((m) => m.DeviceName)).toContain("/dev/sda1");
  });

  it("refuses input without the dstack_bucket tag, a bad disk size or a bad image id, before any call", async () => {
    const input = await launchInput();
    calls.length = 0;
    const { dstack_bucket: _dropped, ...untagged } = input.tags;
    for (const bad of [{ tags: untagged }, { diskGiB: 2 }, { diskGiB: 1.5 }, { imageId: "ubuntu" }]) {
      const result = await runInstance(session, REGION, { ...input, ...bad });
      expect(result).toMatchObject({ ok: false, error: { kind: "INVALID_INPUT" } });
    }
    expect(calls).toEqual([]);
  });

  it("the same token twice gives one instance: the second call finds it and sends no RunInstances", async () => {
    const input = await launchInput();
    const first = await runInstance(session, REGION, input);
    const second = await runInstance(session, REGION, input);
    expect(second).toMatchObject({ ok: true, value: { reused: true, instanceId: first.ok ? first.value.instanceId : "?" } });
    expect(await allInstances()).toHaveLength(1);
    expect(calls.filter((c) => c.operation === "RunInstances")).toHaveLength(1);
    // Another token is another launch.
    expect(await runInstance(session, REGION, { ...input, clientToken: "instance-rec-0002" })).toMatchObject({ ok: true, value: { reused: false } });
    expect(await allInstances()).toHaveLength(2);
  });

  it("hashes tokens EC2 or a tag value would not accept, deterministically", async () => {
    const input = await launchInput({ clientToken: "x".repeat(100) });
    const first = await runInstance(session, REGION, input);
    expect(first.ok && first.value.clientToken).toMatch(/^[0-9a-f]{64}$/);
    const second = await runInstance(session, REGION, input);
    expect(second).toMatchObject({ ok: true, value: { reused: true } });
    expect(await allInstances()).toHaveLength(1);
  });
});

describe("runInstance through failures (fault proxy)", () => {
  it("a timeout after moto launched, then the caller's retry: one instance, no second RunInstances", async () => {
    const input = await launchInput();
    // maxAttempts 1: the SDK does not retry by itself, so the caller's retry is what is tested.
    const factory = createAwsClientFactory({ endpoint: proxy.endpoint, maxAttempts: 1, requestTimeoutMs: 1_000 });
    const viaProxy: AwsSession = { factory, credentials: session.credentials };
    let handled: Promise<unknown> | null = null;
    proxy.addRule({
      // The launch reaches moto, but the answer never reaches the client.
      match: (request) => {
        if (request.action !== "RunInstances" || handled) return false;
        handled = sendTo(moto.endpoint, request);
        return true;
      },
      fault: { kind: "timeout" },
    });

    const first = await runInstance(viaProxy, REGION, input);
    expect(first).toMatchObject({ ok: false, error: { kind: "TRANSIENT", operation: "RunInstances" } });
    await handled;
    expect(await allInstances()).toHaveLength(1);

    const retry = await runInstance(viaProxy, REGION, input);
    factory.destroy();
    expect(retry).toMatchObject({ ok: true, value: { reused: true } });
    expect(await allInstances()).toHaveLength(1);
    expect(runInstancesRequests()).toHaveLength(1);
  });

  it("the SDK's own retry after a timeout carries the same ClientToken (AWS then returns the first launch)", async () => {
    const input = await launchInput();
    const factory = createAwsClientFactory({ endpoint: proxy.endpoint, requestTimeoutMs: 1_000 }); // default 3 attempts
    const viaProxy: AwsSession = { factory, credentials: session.credentials };
    // moto ignores ClientToken; these rules give the proxy AWS's behaviour: the first attempt launches
    // but its answer is lost; a repeated token gets the first answer. Until moto has answered, repeats
    // time out too (never forwarded), so a slow moto can fail the test but never launch twice.
    let launched: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> | null = null;
    let firstToken: string | null = null;
    const replay: { kind: "respond"; status: number; headers: Record<string, string>; body: string } = {
      kind: "respond",
      status: 200,
      headers: { "content-type": "text/xml" },
      body: "",
    };
    proxy.addRule({
      match: (request) => {
        if (request.action !== "RunInstances" || replay.body) return false;
        if (!launched) {
          firstToken = tokenOf(request);
          launched = sendTo(moto.endpoint, request);
          void launched.then((answer) => void (replay.body = answer.body));
        }
        return true;
      },
      fault: { kind: "timeout" },
    });
    proxy.addRule({ match: (request) => request.action === "RunInstances" && tokenOf(request) === firstToken, fault: replay });
    const result = await runInstance(viaProxy, REGION, input);
    await (launched as Promise<unknown> | null);
    factory.destroy();
    expect(result).toMatchObject({ ok: true, value: { reused: false } });
    const attempts = runInstancesRequests();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map(tokenOf))).toEqual(new Set(["instance-rec-0001"]));
    expect(await allInstances()).toHaveLength(1);
    expect(result.ok && result.value.instanceId).toBe((await allInstances())[0].InstanceId);
  });

  it("IAM propagation errors twice, then success: retried with the same token, one instance", async () => {
    const input = await launchInput();
    const viaProxy: AwsSession = { factory: createAwsClientFactory({ endpoint: proxy.endpoint }), credentials: session.credentials };
    proxy.addRule({
      match: on.action("RunInstances"),
      fault: {
        kind: "respond",
        status: 400,
        headers: { "content-type": "text/xml" },
        body: ec2ErrorBody("InvalidParameterValue", `Value (${PROFILE}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`),
      },
      times: 2,
    });
    const single = await runInstance(viaProxy, REGION, input);
    expect(single).toMatchObject({ ok: false, error: { kind: "INSTANCE_PROFILE_NOT_READY", code: "InvalidParameterValue" } });

    const result = await launchWithRetry(viaProxy, REGION, input, { initialDelayMs: 10 });
    viaProxy.factory.destroy();
    expect(result).toMatchObject({ ok: true, value: { attempts: 2, reused: false } });
    expect(await allInstances()).toHaveLength(1);
    expect(new Set(runInstancesRequests().map(tokenOf))).toEqual(new Set(["instance-rec-0001"]));
  });

  it("gives up on IAM propagation after the bound", async () => {
    const input = await launchInput();
    const viaProxy: AwsSession = { factory: createAwsClientFactory({ endpoint: proxy.endpoint }), credentials: session.credentials };
    proxy.addRule({
      match: on.action("RunInstances"),
      fault: { kind: "respond", status: 400, headers: { "content-type": "text/xml" }, body: ec2ErrorBody("InvalidParameterValue", "Invalid IAM Instance Profile name") },
    });
    // Real delays: attempts at about 0, 1 and 3 s; the next (7 s) would pass the bound.
    const result = await launchWithRetry(viaProxy, REGION, input, { maxWaitMs: 5_000, initialDelayMs: 1_000 });
    viaProxy.factory.destroy();
    expect(result).toMatchObject({ ok: false, error: { kind: "INSTANCE_PROFILE_NOT_READY" } });
    expect(runInstancesRequests()).toHaveLength(3);
    expect(await allInstances()).toHaveLength(0);
  });

  it.each([
    ["InsufficientInstanceCapacity", 500, "We currently do not have sufficient g4dn.xlarge capacity in the Availability Zone you requested (eu-west-1a).", "NO_CAPACITY"],
    ["SpotMaxPriceTooLow", 400, "Your Spot request price of 0.001 is lower than the minimum required Spot request fulfillment price of 0.2.", "NO_CAPACITY"],
    ["MaxSpotInstanceCountExceeded", 400, "Max spot instance count exceeded", "NO_CAPACITY"],
    ["VcpuLimitExceeded", 400, "You have requested more vCPU capacity than your current vCPU limit of 0 allows.", "NO_CAPACITY"],
    ["InvalidParameterValue", 400, "Invalid value 'x9.huge' for InstanceType.", "INSTANCE_TYPE_UNAVAILABLE"],
    ["Unsupported", 400, "Your requested instance type (p4d.24xlarge) is not supported in your requested Availability Zone (eu-west-1c).", "INSTANCE_TYPE_UNAVAILABLE"],
    ["UnauthorizedOperation", 403, "You are not authorized to perform this operation.", "ACCESS_DENIED"],
  ])("classifies %s (HTTP %i) with AWS's reason where it helps", async (code, status, message, kind) => {
    const input = await launchInput();
    const viaProxy: AwsSession = { factory: createAwsClientFactory({ endpoint: proxy.endpoint, maxAttempts: 1 }), credentials: session.credentials };
    proxy.addRule({ match: on.action("RunInstances"), fault: { kind: "respond", status, headers: { "content-type": "text/xml" }, body: ec2ErrorBody(code, message) } });
    const result = await runInstance(viaProxy, REGION, input);
    viaProxy.factory.destroy();
    expect(result).toMatchObject({ ok: false, error: { kind, code, operation: "RunInstances", action: "ec2:RunInstances" } });
    if (!result.ok && kind !== "ACCESS_DENIED") expect(result.error.message).toContain(message);
    expect(await allInstances()).toHaveLength(0);
  });
});

describe("describe and status", () => {
  it("describes instances in batches of at most 100 ids, listing unknown ids as missing", async () => {
    const input = await launchInput();
    const launched: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await runInstance(session, REGION, { ...input, clientToken: `rec-${i}` });
      if (result.ok) launched.push(result.value.instanceId);
    }
    const unknown = Array.from({ length: 150 }, (_, i) => `i-${(0xabc000 + i).toString(16).padStart(17, "0")}`);
    calls.length = 0;
    const result = await describeInstances(session, REGION, [...unknown.slice(0, 99), ...launched, ...unknown.slice(99)]);
    expect(calls.map((c) => c.operation)).toEqual(["DescribeInstances", "DescribeInstances"]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.found.map((i) => i.instanceId).sort()).toEqual([...launched].sort());
    expect(result.value.missing).toHaveLength(150);
    expect(result.value.found[0]).toMatchObject({ state: "running", market: "ON_DEMAND", instanceType: "g4dn.xlarge", tags: { dstack_bucket: BUCKET } });
    expect(result.value.found[0].launchTime).toBeInstanceOf(Date);
    expect(mapInstanceStatus({ instance: result.value.found[0] })).toEqual({ status: "RUNNING", reason: null });
  });

  it("describes spot requests (moto fulfils them at once) and maps them with their instance", async () => {
    await launchInput();
    const request = await requestSpot("g4dn.xlarge", BUCKET);
    const requestId = request.SpotInstanceRequests![0].SpotInstanceRequestId!;
    const requests = await describeSpotRequests(session, REGION, [requestId, "sir-00000000"]);
    expect(requests).toMatchObject({ ok: true, value: { missing: ["sir-00000000"] } });
    const info = requests.ok ? requests.value.found[0] : null;
    expect(info).toMatchObject({ requestId, state: "active", statusCode: "fulfilled", tags: { dstack_bucket: BUCKET } });
    expect(mapInstanceStatus({ spotRequest: info })).toEqual({ status: "PENDING", reason: null });
    const instances = await describeInstances(session, REGION, [info!.instanceId!]);
    const instance = instances.ok ? instances.value.found[0] : null;
    expect(instance).toMatchObject({ market: "SPOT", state: "running" });
    expect(mapInstanceStatus({ spotRequest: info, instance })).toEqual({ status: "RUNNING", reason: null });
  });
});

describe("terminateInstance", () => {
  it("terminates an on-demand instance of the backend; again, and for an unknown id, it is a success", async () => {
    const launched = await runInstance(session, REGION, await launchInput());
    const instanceId = launched.ok ? launched.value.instanceId : "";
    const result = await terminateInstance(session, REGION, { instanceId, bucket: BUCKET });
    // EC2 answers TerminateInstances with the state it is now in: not yet "terminated".
    expect(result).toEqual({ ok: true, value: { spotRequest: "none", instance: "terminating", instanceState: "shutting-down", instanceId, spotRequestId: null } });
    const [instance] = await allInstances();
    expect(instance.State?.Name).toBe("terminated");

    calls.length = 0;
    expect(await terminateInstance(session, REGION, { instanceId, bucket: BUCKET })).toMatchObject({ ok: true, value: { instance: "already-terminated", instanceState: "terminated" } });
    expect(calls.map((c) => c.operation)).toEqual(["DescribeInstances"]);
    expect(await terminateInstance(session, REGION, { instanceId: "i-0123456789abcdef0", bucket: BUCKET })).toMatchObject({
      ok: true,
      value: { instance: "not-found" },
    });
    const described = await describeInstances(session, REGION, [instanceId]);
    expect(mapInstanceStatus({ instance: described.ok ? described.value.found[0] : undefined })).toMatchObject({ status: "TERMINATED" });
  });

  it("cancels the spot request first, then terminates its instance", async () => {
    await launchInput();
    const request = await requestSpot("g4dn.xlarge", BUCKET);
    const spotRequestId = request.SpotInstanceRequests![0].SpotInstanceRequestId!;
    const instanceId = request.SpotInstanceRequests![0].InstanceId!;
    // On AWS RunInstances tags the instance itself; moto's spot request does not pass tags on.
    await inspect.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: "dstack_bucket", Value: BUCKET }] }));

    calls.length = 0;
    const result = await terminateInstance(session, REGION, { spotRequestId, bucket: BUCKET });
    expect(result).toEqual({ ok: true, value: { spotRequest: "cancelled", instance: "terminating", instanceState: "shutting-down", instanceId, spotRequestId } });
    const mutations = calls.map((c) => c.operation).filter((op) => !op.startsWith("Describe"));
    expect(mutations).toEqual(["CancelSpotInstanceRequests", "TerminateInstances"]);
    // moto forgets a cancelled request (AWS keeps it as "cancelled" for a while).
    expect((await inspect.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests).toEqual([]);
    expect((await allInstances()).find((i) => i.InstanceId === instanceId)?.State?.Name).toBe("terminated");

    // Idempotent, and without CancelSpotInstanceRequests on a request moto no longer knows (it would answer 500).
    calls.length = 0;
    expect(await terminateInstance(session, REGION, { instanceId, spotRequestId, bucket: BUCKET })).toMatchObject({
      ok: true,
      value: { spotRequest: "not-found", instance: "already-terminated" },
    });
    expect(calls.map((c) => c.operation).filter((op) => !op.startsWith("Describe"))).toEqual([]);
  });

  it("refuses an instance without the backend's tag, and changes nothing", async () => {
    const p = await provision();
    const foreign = await inspect.send(
      new RunInstancesCommand({
        ImageId: p.image.imageId,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "dstack_bucket", Value: "other-bucket" }] }],
      }),
    );
    const untagged = await inspect.send(new RunInstancesCommand({ ImageId: p.image.imageId, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }));
    calls.length = 0;
    for (const instanceId of [foreign.Instances![0].InstanceId!, untagged.Instances![0].InstanceId!]) {
      const result = await terminateInstance(session, REGION, { instanceId, bucket: BUCKET });
      expect(result).toMatchObject({ ok: false, error: { kind: "NOT_OURS", code: "NotOurs" } });
      if (!result.ok) expect(result.error.message).toContain(instanceId);
    }
    expect(calls.every((c) => c.operation.startsWith("Describe"))).toBe(true);
    expect((await allInstances()).map((i) => i.State?.Name)).toEqual(["running", "running"]);
  });

  it("refuses a spot request of another bucket before cancelling anything", async () => {
    await launchInput();
    const request = await requestSpot("t3.micro", "other-bucket");
    const spotRequestId = request.SpotInstanceRequests![0].SpotInstanceRequestId!;
    const result = await terminateInstance(session, REGION, { spotRequestId, bucket: BUCKET });
    expect(result).toMatchObject({ ok: false, error: { kind: "NOT_OURS" } });
    expect((await inspect.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests).toHaveLength(1);
  });

  it("uses only the seed policy's actions", async () => {
    const launched = await runInstance(session, REGION, await launchInput({ market: "SPOT" }));
    await terminateInstance(session, REGION, { instanceId: launched.ok ? launched.value.instanceId : "", bucket: BUCKET });
    const granted = new Set(awsIamPolicyDocument(BUCKET).Statement.flatMap((s) => s.Action));
    expect(calls.map((c) => c.action).filter((action) => !granted.has(action))).toEqual([]);
  });
});

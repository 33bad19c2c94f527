// Pure parts of compute: status mapping (including the spot states moto never produces), user data,
// the TTL cache, price parsing and sorting, token normalisation, newest-image choice, error kinds.
import { describe, expect, it } from "vitest";
import type { InstanceInfo, SpotRequestInfo } from "../../src/aws/compute/describe.js";
import { classifyAwsError, isRetryable } from "../../src/aws/errors.js";
import { newestImage } from "../../src/aws/compute/images.js";
import { normalizeClientToken, runInstancesInput, type RunInstanceInput } from "../../src/aws/compute/launch.js";
import { lowestCurrentPrices, matchesOfferFilter, onDemandPriceFilters, parsePriceList, priceOffers, type InstanceOffer } from "../../src/aws/compute/offers.js";
import { mapInstanceStatus } from "../../src/aws/compute/status.js";
import { AwsCache, awsCacheKey } from "../../src/aws/cache.js";
import { buildUserData, parseSshPublicKey } from "../../src/aws/compute/user-data.js";

const instance = (state: string, extra: Partial<InstanceInfo> = {}): InstanceInfo => ({
  instanceId: "i-1",
  state,
  stateReason: null,
  instanceType: "g4dn.xlarge",
  market: "SPOT",
  spotRequestId: "sir-1",
  launchTime: new Date(),
  availabilityZone: "eu-west-1a",
  publicIp: null,
  publicDnsName: null,
  privateIp: null,
  tags: {},
  ...extra,
});
const request = (state: string, statusCode: string | null, extra: Partial<SpotRequestInfo> = {}): SpotRequestInfo => ({
  requestId: "sir-1",
  state,
  statusCode,
  statusMessage: statusCode ? `message for ${statusCode}` : null,
  instanceId: null,
  createTime: new Date(),
  tags: {},
  ...extra,
});

describe("mapInstanceStatus", () => {
  it.each([
    ["pending", "PENDING"],
    ["running", "RUNNING"],
    ["shutting-down", "TERMINATING"],
    ["stopping", "TERMINATING"],
    ["terminated", "TERMINATED"],
    ["stopped", "TERMINATED"],
  ])("instance %s → %s", (state, status) => {
    expect(mapInstanceStatus({ instance: instance(state) }).status).toBe(status);
  });

  it.each([
    ["open", "pending-evaluation", "PENDING"],
    ["open", "pending-fulfillment", "PENDING"],
    ["open", "capacity-not-available", "NO_CAPACITY"],
    ["open", "capacity-oversubscribed", "NO_CAPACITY"],
    ["open", "price-too-low", "NO_CAPACITY"],
    ["closed", "capacity-not-available", "NO_CAPACITY"],
    ["active", "fulfilled", "PENDING"],
    ["cancelled", "canceled-before-fulfillment", "TERMINATED"],
    ["closed", "instance-terminated-by-user", "TERMINATED"],
    ["closed", "instance-terminated-no-capacity", "TERMINATED"],
    ["closed", "schedule-expired", "FAILED"],
    ["closed", "constraint-not-fulfillable", "FAILED"],
    ["failed", "bad-parameters", "FAILED"],
  ])("spot request %s/%s without instance → %s", (state, code, status) => {
    expect(mapInstanceStatus({ spotRequest: request(state, code) }).status).toBe(status);
  });

  it("gives AWS's reason for NO_CAPACITY and FAILED", () => {
    expect(mapInstanceStatus({ spotRequest: request("open", "capacity-not-available") })).toEqual({
      status: "NO_CAPACITY",
      reason: "capacity-not-available: message for capacity-not-available",
    });
    expect(mapInstanceStatus({ spotRequest: request("failed", "bad-parameters") }).reason).toBe("bad-parameters: message for bad-parameters");
  });

  it("follows the instance once there is one, and reports spot interruptions", () => {
    expect(mapInstanceStatus({ spotRequest: request("active", "fulfilled"), instance: instance("running") }).status).toBe("RUNNING");
    expect(mapInstanceStatus({ spotRequest: request("cancelled", "request-canceled-and-instance-running"), instance: instance("running") }).status).toBe("RUNNING");
    expect(mapInstanceStatus({ spotRequest: request("active", "marked-for-termination"), instance: instance("running") })).toEqual({
      status: "TERMINATING",
      reason: "Spot interruption: marked-for-termination: message for marked-for-termination",
    });
    expect(mapInstanceStatus({ spotRequest: request("closed", "instance-terminated-no-capacity"), instance: instance("terminated") })).toMatchObject({
      status: "TERMINATED",
      reason: expect.stringContaining("Spot interruption"),
    });
    expect(
      mapInstanceStatus({ instance: instance("terminated", { stateReason: { code: "Client.UserInitiatedShutdown", message: "User initiated shutdown" } }) }),
    ).toEqual({ status: "TERMINATED", reason: "Client.UserInitiatedShutdown: User initiated shutdown" });
  });

  it("nothing listed: PENDING right after the launch, TERMINATED later", () => {
    const now = new Date("2025-01-01T12:00:00Z");
    expect(mapInstanceStatus({ instance: null, launchedAt: new Date(now.getTime() - 60_000), now }).status).toBe("PENDING");
    expect(mapInstanceStatus({ instance: null, launchedAt: new Date(now.getTime() - 3600_000), now }).status).toBe("TERMINATED");
    expect(mapInstanceStatus({ spotRequest: null, now }).status).toBe("TERMINATED");
    expect(mapInstanceStatus({}).status).toBe("PENDING");
  });
});

describe("user data", () => {
  const blob = (type: string) => Buffer.concat([Buffer.from([0, 0, 0, type.length]), Buffer.from(type), Buffer.alloc(32, 1)]).toString("base64");
  const key = `ssh-ed25519 ${blob("ssh-ed25519")} alice@laptop`;

  it("is a base64 cloud-config that installs the key", () => {
    const result = buildUserData(`  ${key}\n`);
    expect(result.ok).toBe(true);
    const text = result.ok ? Buffer.from(result.value, "base64").toString("utf8") : "";
    expect(text).toBe(`#cloud-config\nssh_authorized_keys:\n  - "${key}"\n`);
  });

  it("quotes the comment so it cannot add cloud-config", () => {
    const result = buildUserData(`ssh-ed25519 ${blob("ssh-ed25519")} x" \\ runcmd: [rm]`);
    const text = result.ok ? Buffer.from(result.value, "base64").toString("utf8") : "";
    expect(text.split("\n")).toHaveLength(4);
    expect(text).toContain('\\" \\\\ runcmd');
  });

  it("refuses what is not one OpenSSH public key", () => {
    for (const bad of [
      "",
      "not a key",
      `${key}\nruncmd: [reboot]`,
      `ssh-dss ${blob("ssh-dss")}`,
      `ssh-rsa ${blob("ssh-ed25519")}`, // type and blob disagree
      "ssh-ed25519 AAAA",
      "-----BEGIN OPENSSH PRIVATE KEY-----",
    ]) {
      expect(parseSshPublicKey(bad).ok, bad).toBe(false);
    }
  });
});

describe("AwsCache (lru-cache)", () => {
  it("expires, bounds its size, and shares one load between concurrent callers", async () => {
    let now = 1_000_000; // lru-cache reads a start time of 0 as "no time"
    const cache = new AwsCache<{ n: number }>({ ttlMs: 1000, maxEntries: 2, now: () => now });
    cache.set("a", { n: 1 });
    now += 1000;
    expect(cache.get("a")).toEqual({ n: 1 });
    now += 1;
    expect(cache.get("a")).toBeUndefined();
    cache.set("a", { n: 1 });
    cache.set("b", { n: 2 });
    cache.set("c", { n: 3 });
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, { n: 2 }, { n: 3 }]);

    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { n: 42 };
    };
    expect(await Promise.all([cache.remember("x", load), cache.remember("x", load)])).toEqual([{ n: 42 }, { n: 42 }]);
    expect(loads).toBe(1);
    expect(await cache.remember("y", async () => ({ n: -1 }), () => 0)).toEqual({ n: -1 }); // not kept
    expect(cache.get("y")).toBeUndefined();
  });

  it("keeps a loaded value for the time ttlFor gives it", async () => {
    let now = 1_000_000;
    const cache = new AwsCache<{ ok: boolean }>({ ttlMs: 60_000, maxEntries: 10, now: () => now });
    await cache.remember("failed", async () => ({ ok: false }), (value) => (value.ok ? 60_000 : 5_000));
    now += 5_001;
    expect(cache.get("failed")).toBeUndefined();
    await cache.remember("worked", async () => ({ ok: true }), (value) => (value.ok ? 60_000 : 5_000));
    now += 59_000;
    expect(cache.get("worked")).toEqual({ ok: true });
  });

  it("keys never contain the secret key", () => {
    const key = awsCacheKey("eu-west-1", { mode: "ACCESS_KEY", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "very-secret" }, "spot");
    expect(key).not.toContain("very-secret");
    expect(key).not.toBe(awsCacheKey("eu-west-1", { mode: "ACCESS_KEY", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "other" }, "spot"));
    expect(key).not.toBe(awsCacheKey("us-east-1", { mode: "ACCESS_KEY", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "very-secret" }, "spot"));
  });
});

describe("prices", () => {
  it("spot: latest entry per zone, then the lowest zone; other products ignored", () => {
    const prices = lowestCurrentPrices([
      { InstanceType: "m5.large", AvailabilityZone: "a", SpotPrice: "0.050", Timestamp: new Date("2025-01-01T00:00:00Z"), ProductDescription: "Linux/UNIX" },
      { InstanceType: "m5.large", AvailabilityZone: "a", SpotPrice: "0.090", Timestamp: new Date("2025-01-01T01:00:00Z"), ProductDescription: "Linux/UNIX" },
      { InstanceType: "m5.large", AvailabilityZone: "b", SpotPrice: "0.070", Timestamp: new Date("2025-01-01T00:30:00Z"), ProductDescription: "Linux/UNIX" },
      { InstanceType: "m5.large", AvailabilityZone: "c", SpotPrice: "0.010", Timestamp: new Date("2025-01-01T02:00:00Z"), ProductDescription: "Windows" },
      { InstanceType: "c5.large", AvailabilityZone: "a", SpotPrice: "0.040", Timestamp: new Date("2025-01-01T00:00:00Z"), ProductDescription: "Linux/UNIX (Amazon VPC)" },
    ]);
    expect(prices).toEqual(new Map([["m5.large", 0.07], ["c5.large", 0.04]]));
  });

  it("on-demand: parses Price List items (hourly USD), and filters for plain shared Linux", () => {
    const item = (type: string, usd: string, unit = "Hrs") =>
      JSON.stringify({
        product: { attributes: { instanceType: type, operatingSystem: "Linux" } },
        terms: { OnDemand: { "X.JRTCKXETXF": { priceDimensions: { "X.JRTCKXETXF.6YS6EN2CT7": { unit, pricePerUnit: { USD: usd } } } } } },
      });
    expect(parsePriceList([item("m5.large", "0.1070000000"), item("g4dn.xlarge", "0.5870000000"), item("x", "0.0000000000"), "not json", item("y", "1", "Quantity")])).toEqual(
      new Map([["m5.large", 0.107], ["g4dn.xlarge", 0.587]]),
    );
    expect(onDemandPriceFilters("eu-west-1").map((f) => [f.Field, f.Value])).toEqual([
      ["regionCode", "eu-west-1"],
      ["operatingSystem", "Linux"],
      ["tenancy", "Shared"],
      ["preInstalledSw", "NA"],
      ["capacitystatus", "Used"],
      ["licenseModel", "No License required"],
    ]);
  });

  it("sorts by price (unknown last), then size", () => {
    const offer = (instanceType: string, vcpus: number): InstanceOffer => ({
      instanceType,
      vcpus,
      memoryMiB: vcpus * 4096,
      gpus: [],
      spotSupported: true,
      onDemandSupported: true,
      architectures: ["x86_64"],
    });
    const offers = [offer("big", 16), offer("small", 2), offer("mid", 4), offer("unpriced", 1)];
    const onDemand = new Map([["big", 0.5], ["small", 0.1], ["mid", 0.1]]);
    const spot = new Map([["big", 0.05], ["mid", 0.2]]);
    expect(priceOffers(offers, spot, onDemand).map((o) => o.instanceType)).toEqual(["small", "mid", "big", "unpriced"]);
    const bySpot = priceOffers(offers, spot, onDemand, { sortBy: "SPOT" });
    expect(bySpot.map((o) => o.instanceType)).toEqual(["big", "mid", "unpriced", "small"]);
    expect(bySpot.find((o) => o.instanceType === "small")).toMatchObject({ spotPricePerHour: null, spotAvailable: false, onDemandPricePerHour: 0.1 });
    expect(priceOffers(offers, null, null).every((o) => o.spotAvailable && o.spotPricePerHour === null)).toBe(true);
    expect(matchesOfferFilter(offer("x", 4), { gpuName: "T4" })).toBe(false);
  });
});

describe("launch input", () => {
  it("keeps valid tokens and hashes the rest", () => {
    expect(normalizeClientToken("inst_0b5f2a9c-1234")).toBe("inst_0b5f2a9c-1234");
    expect(normalizeClientToken("has space")).toMatch(/^[0-9a-f]{64}$/);
    expect(normalizeClientToken("é")).toBe(normalizeClientToken("é"));
  });

  it("builds RunInstances for spot in a subnet", () => {
    const input: RunInstanceInput = {
      clientToken: "t",
      instanceType: "g4dn.xlarge",
      imageId: "ami-0123456789abcdef0",
      market: "SPOT",
      subnetId: "subnet-1",
      securityGroupId: "sg-1",
      instanceProfileName: "dstack_role_b",
      diskGiB: 100,
      userData: "",
      tags: { dstack_bucket: "b" },
    };
    const built = runInstancesInput(input, "t", "/dev/sda1");
    expect(built).toMatchObject({
      ClientToken: "t",
      IamInstanceProfile: { Name: "dstack_role_b" },
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: "subnet-1", Groups: ["sg-1"], AssociatePublicIpAddress: true }],
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 100, VolumeType: "gp3", DeleteOnTermination: true } }],
      InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } },
    });
    expect(built.SecurityGroupIds).toBeUndefined();
    expect(built.TagSpecifications?.map((t) => t.ResourceType)).toEqual(["instance", "volume", "spot-instances-request"]);
    const onDemand = runInstancesInput({ ...input, market: "ON_DEMAND", subnetId: null }, "t", "/dev/xvda");
    expect(onDemand.InstanceMarketOptions).toBeUndefined();
    expect(onDemand.SecurityGroupIds).toEqual(["sg-1"]);
    expect(onDemand.TagSpecifications?.map((t) => t.ResourceType)).toEqual(["instance", "volume"]);
  });
});

describe("images and errors", () => {
  it("newest by creation date, then by name", () => {
    expect(
      newestImage([
        { ImageId: "ami-old", CreationDate: "2024-01-01T00:00:00.000Z", Name: "z" },
        { ImageId: "ami-new", CreationDate: "2025-01-01T00:00:00.000Z", Name: "a" },
        { ImageId: "ami-mid", CreationDate: "2024-06-01T00:00:00.000Z", Name: "m" },
      ])?.ImageId,
    ).toBe("ami-new");
    expect(newestImage([])).toBeNull();
  });

  it("classifies capacity before the HTTP status, and IAM propagation as retryable", () => {
    const error = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
    const capacity = classifyAwsError(error("InsufficientInstanceCapacity", "We currently do not have sufficient capacity.", 500), "ec2", "RunInstances");
    expect(capacity).toMatchObject({ kind: "NO_CAPACITY", message: "InsufficientInstanceCapacity: We currently do not have sufficient capacity." });
    expect(isRetryable(capacity)).toBe(false);
    const iam = classifyAwsError(error("InvalidParameterValue", "Invalid IAM Instance Profile name", 400), "ec2", "RunInstances");
    expect(iam.kind).toBe("INSTANCE_PROFILE_NOT_READY");
    expect(isRetryable(iam)).toBe(true);
    const other = classifyAwsError(error("InvalidParameterValue", "Invalid value for parameter foo", 400), "ec2", "RunInstances");
    expect(other.kind).toBe("OTHER");
    expect(other.message).not.toContain("foo"); // generic codes keep errors.ts's safe message
  });
});

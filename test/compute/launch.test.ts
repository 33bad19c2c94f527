import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { ec2Client } from "../support/moto-iam.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createSeedBackend, MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { id name status market awsInstanceId spotRequestId instanceType region } userErrors { code field message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { id status terminatedAt } userErrors { code field message } } }`;

describe("launching and terminating instances through GraphQL", () => {
  let moto: MotoServer;
  let t: TestServer;
  let backendId: string;
  beforeAll(async () => {
    moto = await startMoto();
    t = await startTestServer({ AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50" });
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await moto.reset();
    ({ backendId } = await createSeedBackend(t.admin, moto.endpoint, `launch-${Date.now() % 100000}`, "us-east-1", { image: MOTO_CANONICAL_IMAGE }));
  });

  it("refuses to launch before the backend is READY", async () => {
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro" } });
    expect(result.launchInstance.userErrors[0]).toMatchObject({ code: "INVALID_INPUT", field: ["backendId"] });
  });

  it("launches on-demand and spot with the backend's tags and instance profile, and terminates them", async () => {
    const run = await t.admin.ok(PROVISION, { id: backendId });
    expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
    const backend = await t.admin.ok(`query($id: ID!) { backend(id: $id) { project { id } aws { bucket region } } }`, { id: backendId });
    const { bucket, region } = backend.backend.aws;

    for (const market of ["ON_DEMAND", "SPOT"]) {
      const launched = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro", market, name: `m-${market.toLowerCase().replace("_", "-")}` } });
      expect(launched.launchInstance.userErrors).toEqual([]);
      const instance = launched.launchInstance.instance;
      expect(instance).toMatchObject({ market, status: "PENDING", instanceType: "t3.micro", region });
      expect(instance.awsInstanceId).toMatch(/^i-/);

      const described = await ec2Client(moto.endpoint, region).send(new DescribeInstancesCommand({ InstanceIds: [instance.awsInstanceId] }));
      const ec2 = described.Reservations![0]!.Instances![0]!;
      const tags = Object.fromEntries((ec2.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
      expect(tags).toMatchObject({ owner: "dstack", dstack_bucket: bucket, dstack_backend: backendId, dstack_project: backend.backend.project.id, Name: instance.name });
      expect(ec2.IamInstanceProfile?.Arn).toContain(`instance-profile/dstack_role_${bucket.replaceAll("-", "_")}`);

      await t.server.syncInstances();
      const synced = await t.admin.ok(`query($id: ID!) { instance(id: $id) { status } }`, { id: instance.id });
      expect(synced.instance.status).toBe("RUNNING");

      const terminated = await t.admin.ok(TERMINATE, { id: instance.id });
      expect(terminated.terminateInstance.userErrors).toEqual([]);
      expect(["TERMINATING", "TERMINATED"]).toContain(terminated.terminateInstance.instance.status);
      const again = await t.admin.ok(TERMINATE, { id: instance.id });
      expect(again.terminateInstance.userErrors).toEqual([]);
    }
    const list = await t.admin.ok(`query($id: ID!) { backend(id: $id) { instances(first: 10) { edges { node { name market } } } } }`, { id: backendId });
    expect(list.backend.instances.edges).toHaveLength(2);
  });

  it("answers an unknown instance type with INSTANCE_TYPE_UNAVAILABLE on the field", async () => {
    const run = await t.admin.ok(PROVISION, { id: backendId });
    await waitForRun(t.admin, run.provisionBackend.run.id);
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "not a type" } });
    expect(result.launchInstance.userErrors[0]).toMatchObject({ code: "INSTANCE_TYPE_UNAVAILABLE", field: ["input", "instanceType"] });
  });

  it("lists offers with spot prices, filtered", async () => {
    const offers = await t.admin.ok(`query($id: ID!) { instanceOffers(backendId: $id, filter: { minVcpus: 8, spot: true }) { instanceType vcpus memoryMiB spotPricePerHour onDemandPricePerHour spotAvailable } }`, {
      id: backendId,
    });
    expect(offers.instanceOffers.length).toBeGreaterThan(0);
    expect(offers.instanceOffers.every((o: any) => o.vcpus >= 8)).toBe(true);
    const priced = offers.instanceOffers.filter((o: any) => o.spotPricePerHour !== null);
    expect(priced.length).toBeGreaterThan(0);
    expect(priced.every((o: any) => o.spotAvailable)).toBe(true);
    // Sorted by spot price (known prices first), then by size.
    expect(offers.instanceOffers.slice(0, priced.length).every((o: any) => o.spotPricePerHour !== null)).toBe(true);
    // moto has no Price List API: the on-demand price is unknown, never invented.
    expect(offers.instanceOffers.every((o: any) => o.onDemandPricePerHour === null)).toBe(true);
  });
});

// Compute through the real HTTP server and GraphQL against moto_server (no fault injection here;
// see launch-faults.test.ts): offers, the machine image, launch, state sync, the instanceUpdated
// subscription, termination (on-demand, spot with its request, refused without the backend's tag)
// and deleting a backend with live instances.
// moto gaps (moto.md §3.2) worked around: RunInstances with a spot market creates no spot request,
// so the spot-request path is staged with RequestSpotInstances and an Instance record pointed at it;
// moto registers every image under the caller's own account (123456789012), which is "another owner"
// than Canonical's 099720109477.
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  RegisterImageCommand,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
  type Instance as Ec2Instance,
} from "@aws-sdk/client-ec2";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createSeedBackend, useMoto, useServer } from "../support/fixtures.js";
import { ec2Client } from "../support/moto-iam.js";
import { DELETE, newUser, setMember, withDb } from "../backends/support.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, TEARDOWN, waitForRun } from "../provisioning/support.js";

const INSTANCE_FIELDS = "id name status statusReason market awsInstanceId spotRequestId instanceType region createdAt terminatedAt";
const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateInstance(id: $id) { instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
const INSTANCE = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} backend { id } } }`;
const OFFERS = `query($id: ID!, $filter: InstanceOfferFilter) { instanceOffers(backendId: $id, filter: $filter) {
  instanceType vcpus memoryMiB gpus { name memoryMiB count } spotPricePerHour onDemandPricePerHour spotAvailable } }`;
const UPDATE_IMAGE = `mutation($id: ID!, $input: UpdateAwsBackendInput!) { updateAwsBackend(id: $id, input: $input) { backend { aws { image } } userErrors { code field message } } }`;
const SSH_KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")} alice@laptop`;

describe("compute through GraphQL", () => {
  const moto = useMoto();
  const t = useServer({ INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50" }, { aws: moto });
  let backendId: string;
  let projectId: string;
  let bucket: string;
  let region: string;
  let seq = 0;

  beforeEach(async () => {
    bucket = `launch-${process.pid % 1000}-${++seq}`;
    region = "us-east-1";
    ({ backendId, projectId } = await createSeedBackend(t.admin, moto.endpoint, { bucket, region, input: { image: MOTO_CANONICAL_IMAGE } }));
  });

  async function provision(id = backendId) {
    const run = await t.admin.ok(PROVISION, { id });
    expect((await waitForRun(t.admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  }

  async function launch(input: Record<string, unknown>, id = backendId, client = t.admin) {
    const launched = await client.ok(LAUNCH, { backendId: id, input });
    expect(launched.launchInstance.userErrors).toEqual([]);
    return launched.launchInstance.instance;
  }

  async function ec2Instances(): Promise<Ec2Instance[]> {
    const ec2 = ec2Client(moto.endpoint, region);
    const described = await ec2.send(new DescribeInstancesCommand({}));
    ec2.destroy();
    return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  const tagsOf = (instance: Ec2Instance) => Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  const statusOf = async (id: string) => (await t.admin.ok(INSTANCE, { id })).instance.status as string;
  const instanceRows = () => withDb(t.databaseUrl, async (db) => (await db.query(`SELECT * FROM "Instance" WHERE "backendId" = $1`, [backendId])).rows);

  /** An Instance record made behind the API's back, pointing at something launched directly in moto. */
  async function insertInstanceRow(row: { status: string; market: string; awsInstanceId?: string | null; spotRequestId?: string | null }): Promise<string> {
    return withDb(t.databaseUrl, async (db) => {
      const inserted = await db.query(
        `INSERT INTO "Instance" (id, "backendId", name, "instanceType", market, region, status, "awsInstanceId", "spotRequestId", "clientToken", "updatedAt")
         VALUES (gen_random_uuid(), $1, 'staged', 't3.micro', $2, $3, $4, $5, $6, 'staged-' || gen_random_uuid(), now()) RETURNING id`,
        [backendId, row.market, region, row.status, row.awsInstanceId ?? null, row.spotRequestId ?? null],
      );
      return inserted.rows[0].id as string;
    });
  }

  it("refuses to launch before the backend is READY", async () => {
    const result = await t.admin.ok(LAUNCH, { backendId, input: { instanceType: "t3.micro" } });
    expect(result.launchInstance.userErrors[0]).toMatchObject({ code: "INVALID_INPUT", field: ["backendId"] });
    expect(await instanceRows()).toEqual([]);
  });

  it("launches on-demand and spot with every tag, the instance profile and the ClientToken of its record, and terminates them", async () => {
    await provision();
    const backend = await t.admin.ok(`query($id: ID!) { backend(id: $id) { project { id } aws { bucket region } } }`, { id: backendId });
    expect(backend.backend.aws).toEqual({ bucket, region });

    for (const market of ["ON_DEMAND", "SPOT"]) {
      const name = `m-${market.toLowerCase().replace("_", "-")}`;
      const instance = await launch({ instanceType: "t3.micro", market, name, diskGiB: 20, sshPublicKey: SSH_KEY });
      expect(instance).toMatchObject({ market, name, status: "PENDING", instanceType: "t3.micro", region, statusReason: null, terminatedAt: null });
      expect(instance.awsInstanceId).toMatch(/^i-/);

      const ec2 = (await ec2Instances()).find((i) => i.InstanceId === instance.awsInstanceId)!;
      expect(tagsOf(ec2)).toEqual({
        Name: name,
        owner: "dstack",
        dstack_bucket: bucket,
        dstack_backend: backendId,
        dstack_project: projectId,
        // The record's id is the launch's EC2 ClientToken (kept as a tag so a lost answer can be found).
        dstack_client_token: `bh-${instance.id}`,
      });
      expect(ec2.IamInstanceProfile?.Arn).toBe(`arn:aws:iam::123456789012:instance-profile/dstack_role_${bucket.replaceAll("-", "_")}`);
      expect(ec2.InstanceLifecycle).toBe(market === "SPOT" ? "spot" : undefined);
      expect(ec2.ImageId).toBe("ami-785db401");
      const [row] = (await instanceRows()).filter((r) => r.id === instance.id);
      expect(row.clientToken).toBe(`bh-${instance.id}`);

      await t.server.syncInstances();
      expect(await statusOf(instance.id)).toBe("RUNNING");

      const terminated = await t.admin.ok(TERMINATE, { id: instance.id });
      expect(terminated.terminateInstance.userErrors).toEqual([]);
      expect(["TERMINATING", "TERMINATED"]).toContain(terminated.terminateInstance.instance.status);
      expect((await ec2Instances()).find((i) => i.InstanceId === instance.awsInstanceId)?.State?.Name).toBe("terminated");
      await t.server.syncInstances();
      const final = (await t.admin.ok(INSTANCE, { id: instance.id })).instance;
      expect(final).toMatchObject({ status: "TERMINATED", terminatedAt: expect.any(String) });
      // Idempotent: terminating again changes nothing and is no error.
      const again = await t.admin.ok(TERMINATE, { id: instance.id });
      expect(again.terminateInstance).toMatchObject({ userErrors: [], instance: { status: "TERMINATED" } });
    }
    expect(await ec2Instances()).toHaveLength(2);
    // Backend.instances: a connection, oldest first.
    const page1 = await t.admin.ok(`query($id: ID!) { backend(id: $id) { instances(first: 1) { edges { cursor node { name market } } pageInfo { hasNextPage endCursor } } } }`, {
      id: backendId,
    });
    expect(page1.backend.instances.edges.map((e: any) => e.node)).toEqual([{ name: "m-on-demand", market: "ON_DEMAND" }]);
    expect(page1.backend.instances.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.admin.ok(`query($id: ID!, $after: String) { backend(id: $id) { instances(first: 5, after: $after) { edges { node { name } } pageInfo { hasNextPage } } } }`, {
      id: backendId,
      after: page1.backend.instances.pageInfo.endCursor,
    });
    expect(page2.backend.instances).toEqual({ edges: [{ node: { name: "m-spot" } }], pageInfo: { hasNextPage: false } });
  });

  it("the image comes from the pinned owner: a newer image of the same name from another owner is ignored", async () => {
    const ec2 = ec2Client(moto.endpoint, region);
    // Registered by account 123456789012 (moto's caller), named like Canonical's xenial image, and newer.
    const impostor = await ec2.send(new RegisterImageCommand({ Name: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20990101", RootDeviceName: "/dev/sda1" }));
    ec2.destroy();
    await provision();
    const instance = await launch({ instanceType: "t3.micro" });
    expect((await ec2Instances()).map((i) => i.ImageId)).toEqual(["ami-785db401"]); // Canonical's, not the impostor's
    expect(instance.awsInstanceId).toBeTruthy();

    // The owner decides: pinned to the impostor's account, its image is the one used.
    const updated = await t.admin.ok(UPDATE_IMAGE, { id: backendId, input: { image: { namePattern: MOTO_CANONICAL_IMAGE.namePattern, owner: "123456789012" } } });
    expect(updated.updateAwsBackend.userErrors).toEqual([]);
    await launch({ instanceType: "t3.micro" });
    expect((await ec2Instances()).map((i) => i.ImageId).sort()).toEqual(["ami-785db401", impostor.ImageId].sort());

    // A name pattern without an owner is refused: never by name alone.
    for (const image of [{ namePattern: "ubuntu/images/*" }, { namePattern: "ubuntu/images/*", owner: "canonical" }, { amiId: "ubuntu" }]) {
      const refused = await t.admin.ok(UPDATE_IMAGE, { id: backendId, input: { image } });
      expect(refused.updateAwsBackend.userErrors, JSON.stringify(image)).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "image"] })]);
    }
  });

  it("the default image is the newest Ubuntu 22.04 owned by Canonical: a same-named image of another owner is never used", async () => {
    const { backendId: plain } = await createSeedBackend(t.admin, moto.endpoint, { bucket: `${bucket}-d`, region });
    const ec2 = ec2Client(moto.endpoint, region);
    await ec2.send(new RegisterImageCommand({ Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20990101", RootDeviceName: "/dev/sda1" }));
    ec2.destroy();
    await provision(plain);
    const result = await t.admin.ok(LAUNCH, { backendId: plain, input: { instanceType: "t3.micro" } });
    // moto has no Canonical jammy image; the only jammy image there belongs to another account.
    expect(result.launchInstance).toEqual({
      instance: null,
      userErrors: [
        {
          code: "NOT_FOUND",
          field: ["backendId"],
          message: `No available image matching "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*" owned by 099720109477 in ${region}.`,
        },
      ],
    });
    expect(await ec2Instances()).toEqual([]);
  });

  it("refuses bad launch input on its field (a malformed type: INSTANCE_TYPE_UNAVAILABLE) before any record or launch", async () => {
    await provision();
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ instanceType: "not a type" }, "INSTANCE_TYPE_UNAVAILABLE", ["input", "instanceType"]],
      [{ instanceType: "t3.micro", diskGiB: 4 }, "INVALID_INPUT", ["input", "diskGiB"]],
      [{ instanceType: "t3.micro", name: "Not A Slug!" }, "INVALID_INPUT", ["input", "name"]],
      [{ instanceType: "t3.micro", sshPublicKey: "ssh-rsa nonsense" }, "INVALID_INPUT", ["input", "sshPublicKey"]],
    ];
    for (const [input, code, field] of cases) {
      const result = await t.admin.ok(LAUNCH, { backendId, input });
      expect(result.launchInstance.userErrors[0], JSON.stringify(input)).toMatchObject({ code, field });
      expect(result.launchInstance.instance).toBeNull();
    }
    // (A well-formed type EC2 refuses is in launch-faults.test.ts: moto launches any type name.)
    expect(await instanceRows()).toEqual([]);
    expect(await ec2Instances()).toEqual([]);
  });

  it("lists offers filtered, with moto's spot prices, no invented on-demand price, sorted by price then size", async () => {
    const spot = (await t.admin.ok(OFFERS, { id: backendId, filter: { minVcpus: 8, spot: true } })).instanceOffers;
    expect(spot.length).toBeGreaterThan(0);
    expect(spot.every((o: any) => o.vcpus >= 8)).toBe(true);
    const priced = spot.filter((o: any) => o.spotPricePerHour !== null);
    expect(priced.length).toBeGreaterThan(0);
    expect(priced.every((o: any) => o.spotAvailable && o.spotPricePerHour > 0)).toBe(true);
    // Known prices first, ascending; equal prices by size.
    expect(spot.slice(0, priced.length).every((o: any) => o.spotPricePerHour !== null)).toBe(true);
    for (let i = 1; i < priced.length; i++) {
      const [a, b] = [priced[i - 1], priced[i]];
      expect(a.spotPricePerHour < b.spotPricePerHour || (a.spotPricePerHour === b.spotPricePerHour && (a.vcpus < b.vcpus || (a.vcpus === b.vcpus && a.memoryMiB <= b.memoryMiB)))).toBe(true);
    }
    // moto has no Price List API: the on-demand price is unknown, never invented.
    expect(spot.every((o: any) => o.onDemandPricePerHour === null)).toBe(true);

    const gpus = (await t.admin.ok(OFFERS, { id: backendId, filter: { gpuName: "t4", minGpuCount: 4, minMemoryMiB: 65536 } })).instanceOffers;
    expect(gpus.length).toBeGreaterThan(0);
    expect(gpus.map((o: any) => o.instanceType)).toContain("g4dn.12xlarge");
    for (const offer of gpus) {
      expect(offer.memoryMiB).toBeGreaterThanOrEqual(65536);
      expect(offer.gpus.filter((g: any) => g.name === "T4").reduce((n: number, g: any) => n + g.count, 0)).toBeGreaterThanOrEqual(4);
    }
    // Without prices to sort by (no on-demand prices here), by size.
    const sizes = gpus.map((o: any) => [o.vcpus, o.memoryMiB]);
    expect(sizes).toEqual([...sizes].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect((await t.admin.ok(OFFERS, { id: backendId, filter: { gpuName: "no-such-gpu" } })).instanceOffers).toEqual([]);
  });

  it("terminates a spot instance: its spot request is cancelled, then the instance terminated", async () => {
    await provision();
    // moto's RunInstances makes no spot request: stage one as AWS would have it, tagged like ours.
    const ec2 = ec2Client(moto.endpoint, region);
    const requested = await ec2.send(
      new RequestSpotInstancesCommand({
        InstanceCount: 1,
        Type: "one-time",
        LaunchSpecification: { ImageId: "ami-785db401", InstanceType: "t3.micro" },
        TagSpecifications: [{ ResourceType: "spot-instances-request", Tags: [{ Key: "dstack_bucket", Value: bucket }] }],
      }),
    );
    const spotRequestId = requested.SpotInstanceRequests![0].SpotInstanceRequestId!;
    const fulfilledWith = requested.SpotInstanceRequests![0].InstanceId!;
    await ec2.send(new CreateTagsCommand({ Resources: [fulfilledWith], Tags: [{ Key: "dstack_bucket", Value: bucket }] }));
    const id = await insertInstanceRow({ status: "PENDING", market: "SPOT", spotRequestId });

    // One sync round: the request, then the instance it was fulfilled with.
    await t.server.syncInstances();
    expect((await t.admin.ok(INSTANCE, { id })).instance).toMatchObject({ status: "RUNNING", awsInstanceId: fulfilledWith, spotRequestId });

    const terminated = await t.admin.ok(TERMINATE, { id });
    expect(terminated.terminateInstance.userErrors).toEqual([]);
    expect(terminated.terminateInstance.instance.status).toBe("TERMINATING");
    // moto forgets a cancelled request at once (AWS keeps it as "cancelled" for a while).
    expect((await ec2.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests).toEqual([]);
    ec2.destroy();
    expect((await ec2Instances()).find((i) => i.InstanceId === fulfilledWith)?.State?.Name).toBe("terminated");
    await t.server.syncInstances();
    expect(await statusOf(id)).toBe("TERMINATED");
    expect((await t.admin.ok(TERMINATE, { id })).terminateInstance.userErrors).toEqual([]);
  });

  it("refuses to terminate an instance without the backend's dstack_bucket tag, and leaves it running", async () => {
    await provision();
    const ec2 = ec2Client(moto.endpoint, region);
    const untagged = await ec2.send(new RunInstancesCommand({ ImageId: "ami-785db401", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }));
    const foreign = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-785db401",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "dstack_bucket", Value: "someone-elses-bucket" }] }],
      }),
    );
    ec2.destroy();
    for (const [ec2Id, why] of [
      [untagged.Instances![0].InstanceId!, "(it has no such tag)"],
      [foreign.Instances![0].InstanceId!, "(it belongs to someone-elses-bucket)"],
    ]) {
      const id = await insertInstanceRow({ status: "RUNNING", market: "ON_DEMAND", awsInstanceId: ec2Id });
      const result = await t.admin.ok(TERMINATE, { id });
      expect(result.terminateInstance.userErrors).toEqual([
        { code: "INVALID_INPUT", field: ["id"], message: `Refusing to terminate: instance ${ec2Id} is not tagged dstack_bucket=${bucket} ${why}.` },
      ]);
      expect(result.terminateInstance.instance).toMatchObject({ id, status: "RUNNING", awsInstanceId: ec2Id });
      expect((await ec2Instances()).find((i) => i.InstanceId === ec2Id)?.State?.Name).toBe("running");
    }
  });

  it("refuses to delete a backend with live instances or provisioned resources (BACKEND_BUSY) until they are terminated and torn down", async () => {
    await provision();
    const a = await launch({ instanceType: "t3.micro" });
    const b = await launch({ instanceType: "t3.micro", market: "SPOT" });
    const busy = await t.admin.ok(DELETE, { id: backendId });
    expect(busy.deleteBackend).toEqual({
      deletedBackendId: null,
      userErrors: [
        {
          code: "BACKEND_BUSY",
          field: ["id"],
          message: "2 instance(s) of this backend are not TERMINATED yet; terminate them (terminateInstance) and wait until EC2 reports them terminated.",
        },
      ],
    });
    await t.admin.ok(TERMINATE, { id: a.id });
    expect((await t.admin.ok(DELETE, { id: backendId })).deleteBackend.userErrors[0]).toMatchObject({ code: "BACKEND_BUSY" });
    await t.admin.ok(TERMINATE, { id: b.id });
    await t.server.syncInstances(); // TERMINATING → TERMINATED
    expect(await statusOf(a.id)).toBe("TERMINATED");
    expect(await statusOf(b.id)).toBe("TERMINATED");
    // What provisioning created is still in the account: named, with what removes it.
    const provisioned = (await t.admin.ok(DELETE, { id: backendId })).deleteBackend;
    expect(provisioned.deletedBackendId).toBeNull();
    expect(provisioned.userErrors).toEqual([{ code: "BACKEND_BUSY", field: ["id"], message: expect.stringContaining("Run teardownBackend to remove them") }]);
    expect(provisioned.userErrors[0].message).toContain(`iam-role arn:aws:iam::123456789012:role/dstack_role_${bucket.replaceAll("-", "_")}`);
    const teardown = await t.admin.ok(TEARDOWN, { id: backendId });
    expect((await waitForRun(t.admin, teardown.teardownBackend.run.id)).status).toBe("SUCCEEDED");
    expect((await t.admin.ok(DELETE, { id: backendId })).deleteBackend).toEqual({ deletedBackendId: backendId, userErrors: [] });
    expect((await ec2Instances()).map((i) => i.State?.Name)).toEqual(["terminated", "terminated"]);
  });

  describe("instanceUpdated over graphql-ws", () => {
    const clients: Client[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.dispose()));
    });

    function subscribe(token: string, id: string) {
      const client = createClient({
        url: t.url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      clients.push(client);
      const received: { status: string; awsInstanceId: string | null }[] = [];
      const errors: unknown[] = [];
      const done = (async () => {
        const query = `subscription($id: ID!) { instanceUpdated(id: $id) { id status awsInstanceId } }`;
        for await (const result of client.iterate<{ instanceUpdated: { status: string; awsInstanceId: string | null } }>({ query, variables: { id } })) {
          if (result.errors) errors.push(...result.errors);
          if (result.data) received.push(result.data.instanceUpdated);
        }
      })();
      return { received, errors, done };
    }

    async function until(condition: () => boolean, what: string) {
      const deadline = Date.now() + 10_000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }

    it("delivers the current state, RUNNING after a sync, then TERMINATED, and ends; a non-member gets nothing", async () => {
      await provision();
      const viewer = await newUser(t, `sub-viewer-${seq}`);
      const outsider = await newUser(t, `sub-outsider-${seq}`);
      await setMember(t.admin, projectId, viewer.id, "VIEWER");
      const instance = await launch({ instanceType: "t3.micro" });

      const watching = subscribe(viewer.client.token!, instance.id);
      const stranger = subscribe(outsider.client.token!, instance.id);
      await until(() => watching.received.length === 1, "the current state");
      expect(watching.received[0]).toEqual({ id: instance.id, status: "PENDING", awsInstanceId: instance.awsInstanceId });

      await t.server.syncInstances();
      await until(() => watching.received.some((s) => s.status === "RUNNING"), "RUNNING");
      await t.admin.ok(TERMINATE, { id: instance.id });
      await t.server.syncInstances();
      await watching.done; // the subscription ends by itself once TERMINATED
      expect(watching.received.map((s) => s.status)).toEqual(["PENDING", "RUNNING", "TERMINATING", "TERMINATED"]);
      expect(watching.errors).toEqual([]);

      await stranger.done;
      expect(stranger.received).toEqual([]);
    });
  });
});

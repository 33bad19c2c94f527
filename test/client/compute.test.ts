// The typed client's compute operations against a real server and moto: a READY backend created
// and provisioned through the client (watched over the subscription), then offers, launch, read,
// watch and terminate an instance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateAwsBackendDocument,
  CreateProjectDocument,
  InstanceDocument,
  InstanceOffersDocument,
  InstanceUpdatedDocument,
  LaunchInstanceDocument,
  ProvisionBackendDocument,
  TerminateInstanceDocument,
  assertNoUserErrors,
  createClient,
  watchProvisioningRun,
  type Client,
} from "../../client/src/client.js";
import { createSeedUser, useMoto, useServer } from "../support/fixtures.js";
import { createBucket } from "../support/moto-iam.js";

/** moto ships Canonical's xenial images (not jammy, the service's default). */
const MOTO_IMAGE = { namePattern: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*", owner: "099720109477" };

describe("typed client: compute", () => {
  const moto = useMoto({ reset: "once" });
  const t = useServer({ INSTANCE_SYNC_SECONDS: "0", LAUNCH_RETRY_INITIAL_MS: "50" }, { aws: moto });
  let client: Client;
  beforeAll(() => {
    client = createClient({ url: t.url, token: t.adminToken });
  });
  afterAll(() => client?.dispose());

  it("provisions, lists offers, launches, reads, watches and terminates an instance", async () => {
    const bucket = "client-compute";
    await createBucket(moto.endpoint, bucket, "us-east-1");
    const user = await createSeedUser(moto.endpoint, bucket);
    const { createProject } = await client.request(CreateProjectDocument, { input: { name: "client-compute" } });
    const { createAwsBackend } = await client.request(CreateAwsBackendDocument, {
      projectId: assertNoUserErrors("createProject", createProject).project!.id,
      input: {
        region: "us-east-1",
        bucket,
        credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
        image: MOTO_IMAGE,
      },
    });
    const backendId = assertNoUserErrors("createAwsBackend", createAwsBackend).backend!.id;

    const { provisionBackend } = await client.request(ProvisionBackendDocument, { id: backendId });
    const statuses: string[] = [];
    for await (const run of watchProvisioningRun(client, assertNoUserErrors("provisionBackend", provisionBackend).run!.id)) statuses.push(run.status);
    expect(statuses.at(-1)).toBe("SUCCEEDED");

    const { instanceOffers } = await client.request(InstanceOffersDocument, { backendId, filter: { minVcpus: 2 } });
    expect(instanceOffers.length).toBeGreaterThan(0);
    expect(instanceOffers.every((offer) => offer.vcpus >= 2)).toBe(true);
    expect(instanceOffers.map((offer) => offer.instanceType)).toContain("t3.micro");

    const { launchInstance } = await client.request(LaunchInstanceDocument, {
      backendId,
      input: { instanceType: "t3.micro", market: "ON_DEMAND", name: "typed-client" },
    });
    const instance = assertNoUserErrors("launchInstance", launchInstance).instance!;
    expect(instance).toMatchObject({ name: "typed-client", instanceType: "t3.micro", market: "ON_DEMAND", status: "PENDING", region: "us-east-1" });
    expect(instance.awsInstanceId).toMatch(/^i-/);

    const read = await client.request(InstanceDocument, { id: instance.id });
    expect(read.instance).toMatchObject({ id: instance.id, backend: { id: backendId } });

    // The subscription starts with the instance's current state.
    for await (const event of client.subscribe(InstanceUpdatedDocument, { id: instance.id })) {
      expect(event.instanceUpdated).toMatchObject({ id: instance.id, awsInstanceId: instance.awsInstanceId });
      break;
    }

    const { terminateInstance } = await client.request(TerminateInstanceDocument, { id: instance.id });
    expect(["TERMINATING", "TERMINATED"]).toContain(assertNoUserErrors("terminateInstance", terminateInstance).instance!.status);
  });
});

// Shared pieces of the provisioning tests: GraphQL documents, moto's Canonical image, and waiting
// for a run to finish. (Backends with the seed's IAM user: createSeedBackend in ../support/fixtures.ts.)
import type { GraphQLClient } from "../support/graphql-client.js";

export const RUN_FIELDS = "id kind status error createdAt startedAt finishedAt steps { name status resourceId attempts message }";
export const PROVISION = `mutation($id: ID!) { provisionBackend(id: $id) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
export const TEARDOWN = `mutation($id: ID!) { teardownBackend(id: $id) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
export const RUN = `query($id: ID!) { provisioningRun(id: $id) { ${RUN_FIELDS} backend { id status } } }`;

/** moto ships Canonical's xenial images (not jammy, the service's default). */
export const MOTO_CANONICAL_IMAGE = { namePattern: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*", owner: "099720109477" };

export async function waitForRun(client: GraphQLClient, runId: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { provisioningRun } = await client.ok(RUN, { id: runId });
    if (provisioningRun.status === "SUCCEEDED" || provisioningRun.status === "FAILED") return provisioningRun;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${provisioningRun.status}: ${JSON.stringify(provisioningRun.steps)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

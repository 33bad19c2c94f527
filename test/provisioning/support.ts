// Shared pieces of the provisioning tests: a READY-able backend created through GraphQL, and
// waiting for a run to finish.
import { expect } from "vitest";
import type { GraphQLClient } from "../support/graphql-client.js";
import { createBucket, createIamUser, type MotoUser } from "../support/moto-iam.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";

export const RUN_FIELDS = "id kind status error createdAt startedAt finishedAt steps { name status resourceId attempts message }";
export const PROVISION = `mutation($id: ID!) { provisionBackend(id: $id) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
export const TEARDOWN = `mutation($id: ID!) { teardownBackend(id: $id) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
export const RUN = `query($id: ID!) { provisioningRun(id: $id) { ${RUN_FIELDS} backend { id status } } }`;

/** A project with an AWS backend whose IAM user holds exactly the seed's policy. */
/** moto ships Canonical's xenial images (not jammy, the service's default). */
export const MOTO_CANONICAL_IMAGE = { namePattern: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*", owner: "099720109477" };

export async function createSeedBackend(admin: GraphQLClient, endpoint: string, bucket: string, region = "us-east-1", extra: Record<string, unknown> = {}) {
  await createBucket(endpoint, bucket, region);
  const user: MotoUser = await createIamUser(endpoint, { userName: `dstack-${bucket}`, policy: awsIamPolicyDocument(bucket) });
  const project = await admin.ok(`mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`, {
    input: { name: `p-${bucket}`.slice(0, 50) },
  });
  const created = await admin.ok(
    `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id status } userErrors { code field message } } }`,
    {
      projectId: project.createProject.project.id,
      input: { region, bucket, credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey }, ...extra },
    },
  );
  expect(created.createAwsBackend.userErrors).toEqual([]);
  return { backendId: created.createAwsBackend.backend.id as string, projectId: project.createProject.project.id as string, user };
}

export async function waitForRun(client: GraphQLClient, runId: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { provisioningRun } = await client.ok(RUN, { id: runId });
    if (provisioningRun.status === "SUCCEEDED" || provisioningRun.status === "FAILED") return provisioningRun;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${provisioningRun.status}: ${JSON.stringify(provisioningRun.steps)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

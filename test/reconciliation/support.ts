// Shared pieces of the reconciliation and spend tests: GraphQL documents, a provisioned backend,
// EC2 as an outside observer (read and changed straight in moto with admin keys), and sending a
// request the fault proxy holds on to moto itself (EC2 acts on it; the server never hears back).
import http from "node:http";
import { DescribeInstancesCommand, RunInstancesCommand, type Instance as Ec2Instance } from "@aws-sdk/client-ec2";
import { expect } from "vitest";
import type { ProxiedRequest } from "../support/fault-proxy.js";
import type { GraphQLClient } from "../support/graphql-client.js";
import { DUMMY_KEYS, ec2Client, type StaticKeys } from "../support/moto-iam.js";
import { createSeedBackend } from "../support/fixtures.js";
import { MOTO_CANONICAL_IMAGE, PROVISION, waitForRun } from "../provisioning/support.js";

export const FINDING_FIELDS = "at kind action resourceType resourceId message";
export const BACKEND_STATE = `query($id: ID!) { backend(id: $id) { id status lastReconciledAt reconciliationFindings(first: 100) { edges { node { ${FINDING_FIELDS} } } } } }`;
export const RECONCILE = `mutation($id: ID!) { reconcileBackend(id: $id) { backend { id status lastReconciledAt } userErrors { code field message } } }`;
export const INSTANCE_FIELDS = "id name status statusReason market awsInstanceId spotRequestId pricePerHour maxDurationMinutes expiresAt createdAt terminatedAt";
export const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) {
  instance { ${INSTANCE_FIELDS} } userErrors { code field message } } }`;
export const INSTANCE = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`;
export const SET_LIMITS = `mutation($projectId: ID!, $input: SetProjectLimitsInput!) { setProjectLimits(projectId: $projectId, input: $input) {
  project { id limits { maxHourlySpend maxLiveInstances defaultMaxDurationMinutes } } userErrors { code field message } } }`;
export const SPEND = `query($id: ID!, $since: DateTime) { project(id: $id) { spend(since: $since) { currency since hourlyRunRate estimatedCost complete
  byBackend { backend { id } hourlyRunRate estimatedCost } } } }`;

export interface Finding {
  at: string;
  kind: string;
  action: string;
  resourceType: string;
  resourceId: string;
  message: string;
}

/** A project with a backend (the seed's policy) provisioned to READY against moto. */
export async function provisionedBackend(admin: GraphQLClient, endpoint: string, bucket: string, region: string) {
  const created = await createSeedBackend(admin, endpoint, { bucket, region, input: { image: MOTO_CANONICAL_IMAGE } });
  const run = await admin.ok(PROVISION, { id: created.backendId });
  expect((await waitForRun(admin, run.provisionBackend.run.id)).status).toBe("SUCCEEDED");
  return created;
}

export async function backendState(client: GraphQLClient, backendId: string): Promise<{ status: string; lastReconciledAt: string | null; findings: Finding[] }> {
  const { backend } = await client.ok(BACKEND_STATE, { id: backendId });
  return { status: backend.status, lastReconciledAt: backend.lastReconciledAt, findings: backend.reconciliationFindings.edges.map((edge: { node: Finding }) => edge.node) };
}

/** reconcileBackend, expecting it to run. */
export async function reconcile(client: GraphQLClient, backendId: string) {
  const result = await client.ok(RECONCILE, { id: backendId });
  expect(result.reconcileBackend.userErrors).toEqual([]);
  return result.reconcileBackend.backend as { id: string; status: string; lastReconciledAt: string };
}

export async function launch(client: GraphQLClient, backendId: string, input: Record<string, unknown>) {
  const result = await client.ok(LAUNCH, { backendId, input });
  return result.launchInstance as { instance: any; userErrors: { code: string; field: string[]; message: string }[] };
}

/** An instance started straight in moto, like one the service launched but never recorded (or someone's console launch). */
export async function runTaggedInstance(endpoint: string, region: string, tags: Record<string, string>, keys: StaticKeys = DUMMY_KEYS): Promise<string> {
  const ec2 = ec2Client(endpoint, region, keys);
  try {
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-785db401",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    return run.Instances![0]!.InstanceId!;
  } finally {
    ec2.destroy();
  }
}

/** Every EC2 instance of the region with its state and tags. */
export async function ec2Instances(endpoint: string, region: string, keys: StaticKeys = DUMMY_KEYS): Promise<Ec2Instance[]> {
  const ec2 = ec2Client(endpoint, region, keys);
  try {
    const described = await ec2.send(new DescribeInstancesCommand({}));
    return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  } finally {
    ec2.destroy();
  }
}

export const tagsOf = (instance: Ec2Instance) => Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key, tag.Value]));

export async function ec2State(endpoint: string, region: string, instanceId: string): Promise<string | undefined> {
  return (await ec2Instances(endpoint, region)).find((instance) => instance.InstanceId === instanceId)?.State?.Name;
}

export const tokenOf = (request: ProxiedRequest) => new URLSearchParams(request.body).get("ClientToken");

/** Sends a request the proxy holds to moto itself: EC2 acts on it, while the client never hears back. */
export function forwardToMoto(endpoint: string, request: ProxiedRequest): Promise<{ status: number; body: string }> {
  const target = new URL(endpoint);
  const headers = { ...request.headers };
  delete headers.expect;
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: target.hostname, port: target.port, method: request.method, path: request.path, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

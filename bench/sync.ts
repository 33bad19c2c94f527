// Instance sync at scale: 2,000 instances running in moto (RunInstances in batches, tagged as the
// product tags them) and recorded as the product records a launch (an Instance row with its EC2 id
// and ClientToken), then one sync round (`server.syncInstances()`). Counts the DescribeInstances
// calls with the server's awsMiddleware. Goal (issue 12): ≤ 20.
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import pMap from "p-map";
import type { AwsCallRecord } from "../src/aws/clients.js";
import { awsIamPolicyDocument } from "../src/aws/iam-policy.js";
import { backendTags, toTagList } from "../src/aws/names.js";
import type { MotoServer } from "../test/support/moto.js";
import { createBucket, createIamUser, DUMMY_KEYS } from "../test/support/moto-iam.js";
import { createDatabase, gql, round, startInProcess, withDb } from "./lib.js";

const INSTANCES = 2_000;
const PER_RUN_INSTANCES_CALL = 250;
const REGION = "us-east-1";
/** An image moto ships (the tests launch it too). */
const IMAGE = "ami-785db401";

export interface SyncResult {
  instances: number;
  setUpSeconds: number;
  /** DescribeInstances calls of one sync round: the goal is ≤ 20. */
  describeCallsFor2000: number;
  awsCalls: Record<string, number>;
  roundMs: number;
  /** Records whose status the round changed (none expected: all are running in EC2 and recorded RUNNING). */
  changedRecords: number;
}

export async function instanceSyncAtScale(clusterUrl: string, moto: MotoServer, log: (line: string) => void): Promise<SyncResult> {
  await moto.reset();
  const setUpStarted = performance.now();
  const bucket = "bench-sync";
  await createBucket(moto.endpoint, bucket, REGION);
  const keys = await createIamUser(moto.endpoint, { userName: `dstack-${bucket}`, policy: awsIamPolicyDocument(bucket) });
  const calls: AwsCallRecord[] = [];
  let recording = false;
  const databaseUrl = await createDatabase(clusterUrl, "bench_sync");
  const server = await startInProcess(databaseUrl, { AWS_ENDPOINT_URL: moto.endpoint, INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" }, (call) => {
    if (recording) calls.push(call);
  });
  const ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: DUMMY_KEYS });
  try {
    const project = await gql(server.url, `mutation { createProject(input: { name: "sync" }) { project { id } } }`);
    const projectId: string = project.createProject.project.id;
    const created = await gql(
      server.url,
      `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code message } } }`,
      { projectId, input: { region: REGION, bucket, credentials: { mode: "ACCESS_KEY", accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } } },
    );
    if (created.createAwsBackend.userErrors.length) throw new Error(JSON.stringify(created.createAwsBackend.userErrors));
    const backendId: string = created.createAwsBackend.backend.id;

    // The instances, in batches, tagged like the product's launches.
    const tags = toTagList({ ...backendTags({ bucket, backendId }), dstack_project: projectId });
    const batches = Array.from({ length: Math.ceil(INSTANCES / PER_RUN_INSTANCES_CALL) }, (_, i) => Math.min(PER_RUN_INSTANCES_CALL, INSTANCES - i * PER_RUN_INSTANCES_CALL));
    const launched = (
      await pMap(
        batches,
        async (count) => {
          const answer = await ec2.send(
            new RunInstancesCommand({ ImageId: IMAGE, InstanceType: "t3.micro", MinCount: count, MaxCount: count, TagSpecifications: [{ ResourceType: "instance", Tags: tags }] }),
          );
          return (answer.Instances ?? []).map((instance) => instance.InstanceId!);
        },
        { concurrency: 2 },
      )
    ).flat();
    if (launched.length !== INSTANCES) throw new Error(`moto launched ${launched.length} instances, not ${INSTANCES}`);
    // Recorded as a launch records them (instances.service.ts): RUNNING with the EC2 id.
    await withDb(databaseUrl, (db) =>
      db.query(
        `INSERT INTO "Instance" (id, "backendId", name, "instanceType", market, region, status, "awsInstanceId", "clientToken", "pricePerHour", "createdAt", "updatedAt")
         SELECT id, $1::uuid, 'sync-' || n, 't3.micro', 'ON_DEMAND', $2, 'RUNNING', aws_id, 'bh-' || id, 0.0104, now(), now()
         FROM (SELECT gen_random_uuid() AS id, n, aws_id FROM unnest($3::text[]) WITH ORDINALITY AS t(aws_id, n)) AS rows`,
        [backendId, REGION, launched],
      ),
    );
    const setUpSeconds = round((performance.now() - setUpStarted) / 1000);

    const before = await withDb(databaseUrl, async (db) => (await db.query(`SELECT max("updatedAt") AS at FROM "Instance"`)).rows[0].at as Date);
    recording = true;
    const started = performance.now();
    await server.syncInstances();
    const roundMs = round(performance.now() - started, 0);
    recording = false;
    const changedRecords = await withDb(databaseUrl, async (db) => Number((await db.query(`SELECT count(*) FROM "Instance" WHERE "updatedAt" > $1`, [before])).rows[0].count));
    const awsCalls: Record<string, number> = {};
    for (const call of calls) awsCalls[`${call.service}:${call.operation}`] = (awsCalls[`${call.service}:${call.operation}`] ?? 0) + 1;
    const result: SyncResult = { instances: INSTANCES, setUpSeconds, describeCallsFor2000: awsCalls["ec2:DescribeInstances"] ?? 0, awsCalls, roundMs, changedRecords };
    log(`  set-up (${INSTANCES} instances in moto, their records): ${setUpSeconds} s`);
    log(`  one sync round: ${result.describeCallsFor2000} DescribeInstances calls (${JSON.stringify(awsCalls)}), ${roundMs} ms, ${changedRecords} records changed`);
    return result;
  } finally {
    ec2.destroy();
    await server.close();
  }
}

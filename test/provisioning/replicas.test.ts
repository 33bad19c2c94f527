// Three replicas sharing one database, each executing several runs at once (PROVISIONING_CONCURRENCY),
// one killed with SIGKILL while it is executing runs. The survivors take its runs over when their
// jobs expire (RUN_JOB_EXPIRE_SECONDS, found by pg-boss maintenance every JOB_MAINTENANCE_SECONDS)
// and resume them from their current step. Every AWS call is slowed down so the runs overlap and
// the kill lands in the middle of them. Not timed: how long it takes is the benchmark's business.
import { afterAll, afterEach, expect, it } from "vitest";
import pg from "pg";
import { createTestDatabase } from "../support/database.js";
import { createSeedBackend, useFaultProxy, useMoto } from "../support/fixtures.js";
import { GraphQLClient } from "../support/graphql-client.js";
import { TEST_ADMIN_TOKEN } from "../support/server.js";
import {
  expectProvisionedOnce,
  inventory,
  OUR_RULE_IDS,
  removeServerBundle,
  runFromDatabase,
  startServerProcess,
  waitUntil,
  type Inventory,
  type ServerProcess,
} from "./harness.js";
import { PROVISION, waitForRun } from "./support.js";

const REGION = "eu-west-1";
const BACKENDS = 6;
/** Creations AWS refuses to repeat (the name is taken), and how many each run makes. */
const CREATIONS = { CreatePolicy: 1, CreateRole: 1, CreateInstanceProfile: 1, CreateSecurityGroup: 1, CreateLogGroup: 2 };

// One world for the file: moto wiped once, the proxy's rules kept between tests.
const moto = useMoto({ reset: "once" });
const proxy = useFaultProxy(moto, { keep: true });
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(() => removeServerBundle());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The resources a backend's runs recorded, straight from the database. */
async function recorded(databaseUrl: string, backendId: string): Promise<{ kind: string; identifier: string }[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT kind, identifier FROM "BackendResource" WHERE "backendId" = $1 ORDER BY kind, identifier`, [backendId]);
    return rows;
  } finally {
    await client.end();
  }
}

/** What the recorded rows say exists, in the inventory's terms (names rather than ARNs). */
function asInventory(rows: { kind: string; identifier: string }[]) {
  const of = (kind: string) => rows.filter((row) => row.kind === kind).map((row) => row.identifier);
  const name = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);
  return {
    policies: of("iam-policy"),
    roles: of("iam-role").map(name),
    attachments: of("iam-role-policy-attachment"),
    profiles: of("iam-instance-profile").map(name),
    securityGroups: of("ec2-security-group"),
    logGroups: of("logs-log-group").sort(),
    lifecycleRules: of("s3-lifecycle-rule").map((id) => id.slice(id.lastIndexOf(":") + 1)).sort(),
  };
}

function inventoryIds(found: Inventory) {
  return {
    policies: found.policies.map((p) => p.arn),
    roles: found.roles.map((r) => r.name),
    attachments: found.roles.flatMap((r) => r.attached.map((arn) => `${r.name}:${arn}`)),
    profiles: found.profiles.map((p) => p.name),
    securityGroups: found.securityGroups.map((g) => g.id),
    logGroups: found.logGroups.map((g) => g.name).sort(),
    lifecycleRules: found.lifecycleRules.map((r) => r.ID ?? "").filter((id) => OUR_RULE_IDS.includes(id)).sort(),
  };
}

/** The buckets whose provisioning a replica started (its CreatePolicy calls name them). */
const bucketsStartedBy = (server: ServerProcess) =>
  new Set(server.calls.filter((c) => c.operation === "CreatePolicy").map((c) => String(c.parameters.PolicyName).replace(/^dstack_policy_/, "").replaceAll("_", "-")));

it("three replicas, one killed with SIGKILL midway: every run SUCCEEDED and every resource was created exactly once", async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const env = { DATABASE_URL: database.url, AWS_ENDPOINT_URL: proxy.endpoint, RATE_LIMIT_AWS_MUTATIONS: "1000", RUN_JOB_EXPIRE_SECONDS: "6", JOB_MAINTENANCE_SECONDS: "1" };
  const replicas = await Promise.all([0, 1, 2].map(() => startServerProcess(env)));
  for (const replica of replicas) cleanups.push(() => replica.close());
  const clients = replicas.map((replica) => new GraphQLClient(replica.url, TEST_ADMIN_TOKEN));

  const backends: { bucket: string; backendId: string }[] = [];
  for (let i = 0; i < BACKENDS; i++) {
    const bucket = `replicas-${i}`;
    const { backendId } = await createSeedBackend(clients[i % 3], moto.endpoint, { bucket, region: REGION });
    backends.push({ bucket, backendId });
  }
  proxy.clearRequests();
  proxy.addRule({ match: () => true, fault: { kind: "latency", ms: 150 } });

  // All at once, through all three replicas.
  const runIds = await Promise.all(
    backends.map(async ({ backendId }, i) => (await clients[i % 3].ok(PROVISION, { id: backendId })).provisionBackend.run.id as string),
  );
  // Kill the replica executing the most runs, once every run is past its first step and before
  // any has finished. Not earlier: a CreatePolicy cut off in flight leaves a policy that the
  // resumed step cannot tell from one that existed before (the seed's policy grants no
  // iam:GetPolicy), so it is kept but not recorded, and teardown would leave it behind.
  await waitUntil(
    "every run past iam-policy",
    async () => (await Promise.all(runIds.map((runId) => runFromDatabase(database.url, runId)))).every((run) => run.steps[0].status === "DONE"),
    60_000,
    20,
  );
  const doomed = [...replicas].sort((a, b) => bucketsStartedBy(b).size - bucketsStartedBy(a).size)[0];
  await doomed.kill();
  const orphaned = runIds.filter((_, i) => bucketsStartedBy(doomed).has(backends[i].bucket));
  expect(orphaned.length).toBeGreaterThanOrEqual(2);
  for (const runId of orphaned) expect((await runFromDatabase(database.url, runId)).status).toBe("RUNNING");
  const survivors = replicas.filter((replica) => replica !== doomed);
  const survivor = new GraphQLClient(survivors[0].url, TEST_ADMIN_TOKEN);

  const runs = await Promise.all(runIds.map((runId) => waitForRun(survivor, runId, 120_000)));
  for (const run of runs) {
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
  }

  for (const { bucket, backendId } of backends) {
    const found = await inventory(moto.endpoint, REGION, bucket);
    expectProvisionedOnce(found, { bucket, backendId });
    // Everything that exists is recorded (teardown will find it), and nothing else is.
    expect(asInventory(await recorded(database.url, backendId))).toEqual(inventoryIds(found));
  }
  // Each creation reached AWS once per backend: answered 2xx, or sent by the killed replica and
  // never answered (it died waiting). A second attempt is refused by AWS (the name is taken) and
  // does not count; none was needed, since resumed steps look before they create.
  const forwarded = proxy.requests.filter((r) => r.fault === null || r.fault === "latency");
  for (const [action, perRun] of Object.entries(CREATIONS)) {
    const reached = forwarded.filter((r) => r.action === action && (r.status === null || (r.status >= 200 && r.status < 300)));
    const refused = forwarded.filter((r) => r.action === action && r.status !== null && r.status >= 300);
    expect({ action, reached: reached.length, refused: refused.length }).toEqual({ action, reached: perRun * BACKENDS, refused: 0 });
  }
}, 240_000);

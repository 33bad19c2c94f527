// Prices and spend through the real server, GraphQL, moto and PostgreSQL. Spot prices come from
// moto's DescribeSpotPriceHistory (fixed at $0.00001/h); moto has no Price List API, so on-demand
// prices are either unknown (with the reason) or answered by the test's proxy in front of moto.
// Spend is checked against a hand computation over records with known lifetimes and prices.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { createBucket, createIamUser } from "../support/moto-iam.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { withDb } from "../backends/support.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { INSTANCE, launch, provisionedBackend, reconcile, SPEND } from "./support.js";

const REGION = "eu-west-1";
const HOUR = 3_600_000;
let moto: MotoServer;
let proxy: FaultProxy;
let t: TestServer;
let seq = 0;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  t = await startTestServer({ AWS_ENDPOINT_URL: proxy.endpoint, INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" });
});
afterAll(async () => {
  await t?.close();
  await proxy?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.clearRules();
});

/** A Price List answer (GetProducts) pricing `instanceType` on demand at `usd` per hour. */
function priceListAnswer(instanceType: string, usd: string) {
  const product = {
    product: { attributes: { instanceType, regionCode: REGION, operatingSystem: "Linux" } },
    terms: { OnDemand: { "T1.JRTCKXETXF": { priceDimensions: { "T1.JRTCKXETXF.6YS6EN2CT7": { unit: "Hrs", pricePerUnit: { USD: usd } } } } } },
  };
  return {
    kind: "respond" as const,
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ FormatVersion: "aws_v1", PriceList: [JSON.stringify(product)] }),
  };
}

describe("prices at launch", () => {
  it("spot: the current spot price of the type in the region; kept current by the reconciler", async () => {
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, `price-spot-${process.pid % 1000}-${++seq}`, REGION);
    const { instance, userErrors } = await launch(t.admin, backendId, { instanceType: "t3.micro", market: "SPOT" });
    expect(userErrors).toEqual([]);
    expect(instance).toMatchObject({ market: "SPOT", pricePerHour: 0.00001, statusReason: null });
    // A stale price (as if the market moved) is brought back to the current one by the next pass.
    await withDb(t.databaseUrl, (db) => db.query(`UPDATE "Instance" SET "pricePerHour" = 0.5 WHERE id = $1`, [instance.id]));
    await reconcile(t.admin, backendId);
    expect((await t.admin.ok(INSTANCE, { id: instance.id })).instance.pricePerHour).toBe(0.00001);
  });

  it("on-demand without the Price List API: null, and statusReason says why", async () => {
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, `price-none-${process.pid % 1000}-${++seq}`, REGION);
    const { instance, userErrors } = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(userErrors).toEqual([]);
    expect(instance.pricePerHour).toBeNull();
    expect(instance.statusReason).toMatch(/^On-demand price unknown: /);
  });

  it("on-demand: the Price List's Linux price (Price List answered by the test proxy: moto has none)", async () => {
    proxy.addRule({ match: (request) => request.action === "GetProducts", fault: priceListAnswer("t3.small", "0.0208") });
    const { backendId } = await provisionedBackend(t.admin, moto.endpoint, `price-od-${process.pid % 1000}-${++seq}`, REGION);
    const { instance, userErrors } = await launch(t.admin, backendId, { instanceType: "t3.small" });
    expect(userErrors).toEqual([]);
    expect(instance).toMatchObject({ market: "ON_DEMAND", pricePerHour: 0.0208, statusReason: null });
    // The request asked for this region's on-demand Linux prices.
    const asked = proxy.requests.find((request) => request.action === "GetProducts")!;
    expect(JSON.parse(asked.body)).toMatchObject({ ServiceCode: "AmazonEC2", Filters: expect.arrayContaining([{ Type: "TERM_MATCH", Field: "regionCode", Value: REGION }]) });
  });
});

describe("Project.spend", () => {
  it("matches a hand computation over the project's backends, flags unknown prices, and defaults to the start of the month", async () => {
    const first = await provisionedBackend(t.admin, moto.endpoint, `spend-a-${process.pid % 1000}-${++seq}`, REGION);
    const projectId = first.projectId;
    const bucketB = `spend-b-${process.pid % 1000}-${seq}`;
    await createBucket(moto.endpoint, bucketB, REGION);
    const userB = await createIamUser(moto.endpoint, { userName: `dstack-${bucketB}`, policy: awsIamPolicyDocument(bucketB) });
    const created = await t.admin.ok(
      `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id } userErrors { code message } } }`,
      { projectId, input: { name: "second", region: REGION, bucket: bucketB, credentials: { mode: "ACCESS_KEY", accessKeyId: userB.accessKeyId, secretAccessKey: userB.secretAccessKey } } },
    );
    expect(created.createAwsBackend.userErrors).toEqual([]);
    const [a, b] = [first.backendId, created.createAwsBackend.backend.id as string];

    const now = Date.now();
    const since = new Date(now - 72 * HOUR);
    const at = (hours: number) => new Date(since.getTime() + hours * HOUR);
    // Records with known lifetimes and prices (what launches and the sync leave behind).
    const rows: [string, string, string | null, number | null, Date, Date | null][] = [
      // backend, status, EC2 id, $/h, created, terminated
      [a, "TERMINATED", "i-a1", 0.5, at(-2), at(3)], //      3 h in the window  -> 1.5
      [a, "TERMINATED", "i-a2", 2, at(1), at(1.5)], //       0.5 h               -> 1.0
      [a, "TERMINATED", "i-a3", 10, at(-5), at(-1)], //      before the window   -> 0
      [a, "RUNNING", "i-a4", 0.25, new Date(now - 2 * HOUR), null], // 2 h so far -> 0.5, runs at 0.25/h
      [a, "FAILED", null, null, at(2), at(2)], //             never ran           -> 0, price not needed
      [b, "TERMINATED", "i-b1", 0.1, at(10), at(14)], //     4 h                 -> 0.4
      [b, "RUNNING", "i-b2", null, at(20), null], //          price unknown       -> complete: false
    ];
    await withDb(t.databaseUrl, async (db) => {
      for (const [backendId, status, awsInstanceId, price, createdAt, terminatedAt] of rows) {
        await db.query(
          `INSERT INTO "Instance" (id, "backendId", name, "instanceType", market, region, status, "awsInstanceId", "pricePerHour", "createdAt", "terminatedAt", "clientToken", "updatedAt")
           VALUES (gen_random_uuid(), $1, 'spend', 't3.micro', 'ON_DEMAND', $2, $3, $4, $5, ($6::timestamptz AT TIME ZONE 'UTC'), ($7::timestamptz AT TIME ZONE 'UTC'),
                   'spend-' || gen_random_uuid(), COALESCE(($7::timestamptz AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')))`,
          [backendId, REGION, status, awsInstanceId, price, createdAt.toISOString(), terminatedAt?.toISOString() ?? null],
        );
      }
    });

    const before = Date.now();
    const { spend } = (await t.admin.ok(SPEND, { id: projectId, since: since.toISOString() })).project;
    const after = Date.now();
    const liveCost = (end: number) => ((end - (now - 2 * HOUR)) / HOUR) * 0.25;
    expect(spend).toMatchObject({ currency: "USD", since: since.toISOString(), complete: false });
    expect(spend.hourlyRunRate).toBeCloseTo(0.25, 10);
    expect(spend.estimatedCost).toBeGreaterThanOrEqual(1.5 + 1.0 + 0.4 + liveCost(before) - 1e-9);
    expect(spend.estimatedCost).toBeLessThanOrEqual(1.5 + 1.0 + 0.4 + liveCost(after) + 1e-9);
    const byBackend = Object.fromEntries(spend.byBackend.map((entry: { backend: { id: string } }) => [entry.backend.id, entry]));
    expect(spend.byBackend.map((entry: { backend: { id: string } }) => entry.backend.id)).toEqual([a, b]);
    expect(byBackend[a].hourlyRunRate).toBeCloseTo(0.25, 10);
    expect(byBackend[a].estimatedCost).toBeGreaterThanOrEqual(2.5 + liveCost(before) - 1e-9);
    expect(byBackend[a].estimatedCost).toBeLessThanOrEqual(2.5 + liveCost(after) + 1e-9);
    expect(byBackend[b]).toMatchObject({ hourlyRunRate: 0 });
    expect(byBackend[b].estimatedCost).toBeCloseTo(0.4, 10);

    // Once every instance counted has a price, the estimate is complete.
    await withDb(t.databaseUrl, (db) => db.query(`UPDATE "Instance" SET "pricePerHour" = 1 WHERE "awsInstanceId" = 'i-b2'`));
    const complete = (await t.admin.ok(SPEND, { id: projectId, since: since.toISOString() })).project.spend;
    expect(complete.complete).toBe(true);
    expect(complete.hourlyRunRate).toBeCloseTo(1.25, 10);

    // Without `since`: from the first instant of this month, UTC.
    const monthly = (await t.admin.ok(SPEND, { id: projectId })).project.spend;
    const today = new Date();
    expect(monthly.since).toBe(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)).toISOString());
  });
});

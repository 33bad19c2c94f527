// Project limits through the real server, GraphQL, moto and PostgreSQL: who may set them, what
// values they take, and launches over each limit refused with BUDGET_EXCEEDED (naming the limit,
// the current figure and what the launch would add), including concurrent launches that would each
// fit alone but not together. Spot prices in moto are fixed at $0.00001/h (moto.md §3.2); moto
// has no Price List API, so on-demand prices are unknown here.
import { beforeEach, describe, expect, it } from "vitest";
import { useMoto, useServer } from "../support/fixtures.js";
import { newUser, setMember, withDb } from "../backends/support.js";
import { ec2Instances, launch, provisionedBackend, SET_LIMITS, tagsOf } from "./support.js";

const REGION = "eu-west-1";
const SPOT_PRICE = 0.00001;
const moto = useMoto();
const t = useServer({ INSTANCE_SYNC_SECONDS: "0", RECONCILE_SECONDS: "0" }, { aws: moto });
let seq = 0;
let backendId: string;
let projectId: string;

beforeEach(async () => {
  ({ backendId, projectId } = await provisionedBackend(t.admin, moto.endpoint, `limits-${process.pid % 1000}-${++seq}`, REGION));
});

async function setLimits(input: Record<string, unknown>, client = t.admin) {
  return (await client.ok(SET_LIMITS, { projectId, input })).setProjectLimits;
}

const backendInstancesInEc2 = async () => (await ec2Instances(moto.endpoint, REGION)).filter((instance) => tagsOf(instance).dstack_backend === backendId);
const records = () => withDb(t.databaseUrl, async (db) => (await db.query(`SELECT id FROM "Instance" WHERE "backendId" = $1`, [backendId])).rows);

describe("setProjectLimits", () => {
  it("is for project ADMINs; values are checked; null clears a limit and an absent field keeps it", async () => {
    const member = await newUser(t, `limits-user-${seq}`);
    await setMember(t.admin, projectId, member.id, "USER");
    const denied = await member.client.request(SET_LIMITS, { projectId, input: { maxLiveInstances: 1 } });
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // Members see the limits.
    const limitsOf = async () => (await member.client.ok(`query($id: ID!) { project(id: $id) { limits { maxHourlySpend maxLiveInstances defaultMaxDurationMinutes } } }`, { id: projectId })).project.limits;
    expect(await limitsOf()).toEqual({ maxHourlySpend: null, maxLiveInstances: null, defaultMaxDurationMinutes: null });

    const bad = await setLimits({ maxHourlySpend: -1, maxLiveInstances: -1, defaultMaxDurationMinutes: 0 });
    expect(bad.userErrors.map((e: { field: string[] }) => e.field)).toEqual([["input", "maxHourlySpend"], ["input", "maxLiveInstances"], ["input", "defaultMaxDurationMinutes"]]);
    expect(bad.userErrors.every((e: { code: string }) => e.code === "INVALID_INPUT")).toBe(true);

    expect((await setLimits({ maxHourlySpend: 2.5, maxLiveInstances: 3, defaultMaxDurationMinutes: 90 })).project.limits).toEqual({ maxHourlySpend: 2.5, maxLiveInstances: 3, defaultMaxDurationMinutes: 90 });
    expect((await setLimits({ maxLiveInstances: null })).project.limits).toEqual({ maxHourlySpend: 2.5, maxLiveInstances: null, defaultMaxDurationMinutes: 90 });
    expect(await limitsOf()).toEqual({ maxHourlySpend: 2.5, maxLiveInstances: null, defaultMaxDurationMinutes: 90 });
  });
});

describe("launches over a limit", () => {
  it("maxLiveInstances: the launch that would exceed it is refused, nothing is launched or recorded", async () => {
    await setLimits({ maxLiveInstances: 1 });
    expect((await launch(t.admin, backendId, { instanceType: "t3.micro" })).userErrors).toEqual([]);
    const refused = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(refused.instance).toBeNull();
    expect(refused.userErrors).toEqual([
      { code: "BUDGET_EXCEEDED", field: ["backendId"], message: "maxLiveInstances is 1; the project has 1 live instance(s) and this launch would add 1." },
    ]);
    expect(await backendInstancesInEc2()).toHaveLength(1);
    expect(await records()).toHaveLength(1);
  });

  it("maxHourlySpend: refused when the prices would sum above it, and when the launch's price is unknown", async () => {
    await setLimits({ maxHourlySpend: 0.000015 });
    const first = await launch(t.admin, backendId, { instanceType: "t3.micro", market: "SPOT" });
    expect(first.userErrors).toEqual([]);
    expect(first.instance.pricePerHour).toBe(SPOT_PRICE);
    const second = await launch(t.admin, backendId, { instanceType: "t3.micro", market: "SPOT" });
    expect(second.userErrors).toEqual([
      { code: "BUDGET_EXCEEDED", field: ["backendId"], message: "maxHourlySpend is $0.000015/h; the project runs $0.00001/h and this launch would add $0.00001/h." },
    ]);
    // moto has no Price List API: an on-demand launch has no known price, so it cannot be checked.
    const onDemand = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(onDemand.userErrors).toEqual([expect.objectContaining({ code: "BUDGET_EXCEEDED", message: expect.stringMatching(/price of t3\.micro is not known.*pricing:GetProducts/) })]);
    expect(await backendInstancesInEc2()).toHaveLength(1);
  });

  it("concurrent launches that would each fit alone: only as many as the limits allow get through", async () => {
    await setLimits({ maxLiveInstances: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => launch(t.admin, backendId, { instanceType: "t3.micro", market: "SPOT", name: `race-${i}` })));
    const passed = results.filter((result) => result.userErrors.length === 0);
    expect(passed).toHaveLength(2);
    expect(results.filter((result) => result.userErrors[0]?.code === "BUDGET_EXCEEDED")).toHaveLength(3);
    expect(await backendInstancesInEc2()).toHaveLength(2);
    expect(await records()).toHaveLength(2);

    // The same for the hourly spend: room for one more at the spot price.
    await setLimits({ maxLiveInstances: null, maxHourlySpend: 3.5 * SPOT_PRICE });
    const more = await Promise.all(Array.from({ length: 4 }, (_, i) => launch(t.admin, backendId, { instanceType: "t3.micro", market: "SPOT", name: `spend-race-${i}` })));
    expect(more.filter((result) => result.userErrors.length === 0)).toHaveLength(1);
    expect(more.filter((result) => result.userErrors[0]?.code === "BUDGET_EXCEEDED")).toHaveLength(3);
    expect(await backendInstancesInEc2()).toHaveLength(3);
  });

  it("terminated instances no longer count", async () => {
    await setLimits({ maxLiveInstances: 1 });
    const { instance } = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    const ended = await t.admin.ok(`mutation($id: ID!) { terminateInstance(id: $id) { userErrors { code } } }`, { id: instance.id });
    expect(ended.terminateInstance.userErrors).toEqual([]);
    await t.server.syncInstances();
    expect((await launch(t.admin, backendId, { instanceType: "t3.micro" })).userErrors).toEqual([]);
  });
});

describe("time limits at launch", () => {
  it("maxDurationMinutes: the launch's own, else the project's default; expiresAt follows from it; bad values refused", async () => {
    const none = await launch(t.admin, backendId, { instanceType: "t3.micro" });
    expect(none.instance).toMatchObject({ maxDurationMinutes: null, expiresAt: null });
    await setLimits({ defaultMaxDurationMinutes: 30 });
    const byDefault = (await launch(t.admin, backendId, { instanceType: "t3.micro" })).instance;
    expect(byDefault.maxDurationMinutes).toBe(30);
    expect(Date.parse(byDefault.expiresAt) - Date.parse(byDefault.createdAt)).toBe(30 * 60_000);
    const own = (await launch(t.admin, backendId, { instanceType: "t3.micro", maxDurationMinutes: 5 })).instance;
    expect(own.maxDurationMinutes).toBe(5);
    expect(Date.parse(own.expiresAt) - Date.parse(own.createdAt)).toBe(5 * 60_000);
    for (const maxDurationMinutes of [0, -3, 525_601]) {
      const refused = await launch(t.admin, backendId, { instanceType: "t3.micro", maxDurationMinutes });
      expect(refused.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "maxDurationMinutes"] })]);
    }
  });
});

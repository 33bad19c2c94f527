// The audit log through the real server: what a row records for each kind of outcome, from both
// doors (HTTP and WebSocket), and who may read it (the project's ADMINs their project, global
// admins everything, anyone else FORBIDDEN), newest first as a Relay connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newProject, newUser, setMember, type Person } from "../backends/support.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { auditRows, CREATE_PROJECT, EVENTS, overWebSocket, sleep, UPDATE_PROJECT } from "./support.js";

const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id prefix } userErrors { code } } }`;
const REVOKE_TOKEN = `mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } userErrors { code } } }`;
const SET_MEMBER = `mutation($projectId: ID!, $input: SetProjectMemberInput!) { setProjectMember(projectId: $projectId, input: $input) { project { id } userErrors { code } } }`;

describe("the audit log", () => {
  let t: TestServer;
  let alice: Person; // ADMIN of P
  let bob: Person; // USER of P
  let carol: Person; // VIEWER of P
  let dave: Person; // ADMIN of Q, not a member of P
  let projectP: string;
  let projectQ: string;
  const prefixOf = (person: Person) => person.client.token!.slice(0, 9);

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map((name) => newUser(t, name)));
    projectP = await newProject(alice.client, "audit-p");
    projectQ = await newProject(dave.client, "audit-q");
    await setMember(alice.client, projectP, bob.id, "USER");
    await setMember(alice.client, projectP, carol.id, "VIEWER");
  });
  afterAll(() => t?.close());

  async function events(who: Person | TestServer["admin"], variables: Record<string, unknown> = {}) {
    const client = "client" in who ? who.client : who;
    return (await client.ok(EVENTS, variables)).auditEvents;
  }
  const nodes = (connection: { edges: { node: any }[] }) => connection.edges.map((edge) => edge.node);

  it("records each mutation with its actor, token prefix, address, project, targets, outcome and request id", async () => {
    const ok = await alice.client.request(UPDATE_PROJECT, { id: projectP, input: { description: "audited" } }, { "x-request-id": "req-audit-ok" });
    expect(ok.data.updateProject.userErrors).toEqual([]);
    const denied = await bob.client.request(UPDATE_PROJECT, { id: projectP, input: { description: "nope" } }, { "x-request-id": "req-audit-denied" });
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const probed = await dave.client.ok(UPDATE_PROJECT, { id: projectP, input: { description: "nope" } });
    expect(probed.updateProject.userErrors[0].code).toBe("NOT_FOUND");
    const invalid = await alice.client.ok(CREATE_PROJECT, { input: { name: "Not A Slug" } });
    expect(invalid.createProject.userErrors[0].code).toBe("INVALID_INPUT");

    const seen = nodes(await events(alice, { projectId: projectP, filter: { operation: "updateProject" } }));
    const byRequest = (id: string) => seen.find((event) => event.requestId === id);
    expect(byRequest("req-audit-ok")).toMatchObject({
      actor: { id: alice.id, name: "alice" },
      tokenPrefix: prefixOf(alice),
      clientAddress: expect.stringMatching(/127\.0\.0\.1$/),
      project: { id: projectP },
      operation: "updateProject",
      targetIds: [projectP],
      outcome: "OK",
      codes: [],
      count: 1,
    });
    expect(byRequest("req-audit-denied")).toMatchObject({ actor: { id: bob.id }, tokenPrefix: prefixOf(bob), outcome: "DENIED", codes: ["FORBIDDEN"], project: { id: projectP } });
    // An outsider probing P: P's ADMINs see it, though the outsider was told P does not exist.
    expect(seen.find((event) => event.actor.id === dave.id)).toMatchObject({ outcome: "USER_ERROR", codes: ["NOT_FOUND"], project: { id: projectP } });
    // A refused createProject has no project; the global admin sees it.
    const refused = nodes(await events(t.admin, { filter: { operation: "createProject", outcome: "USER_ERROR" } }));
    expect(refused).toEqual([expect.objectContaining({ actor: { id: alice.id, name: "alice" }, project: null, codes: ["INVALID_INPUT"], targetIds: [] })]);
  });

  it("records token creation and revocation, and role changes, with the ids they touched", async () => {
    const created = await alice.client.ok(CREATE_TOKEN, { input: { name: "laptop" } });
    const tokenId = created.createApiToken.apiToken.id;
    await alice.client.ok(REVOKE_TOKEN, { id: tokenId });
    await alice.client.ok(SET_MEMBER, { projectId: projectP, input: { userId: carol.id, role: "USER" } });

    const all = nodes(await events(t.admin, { first: 10 }));
    // The token, and its owner (the payload's apiToken.userId).
    expect(all.find((event) => event.operation === "createApiToken")).toMatchObject({ outcome: "OK", targetIds: [tokenId, alice.id], project: null });
    expect(all.find((event) => event.operation === "revokeApiToken")).toMatchObject({ outcome: "OK", targetIds: [tokenId, alice.id] });
    const roleChange = all.find((event) => event.operation === "setProjectMember");
    expect(roleChange).toMatchObject({ outcome: "OK", project: { id: projectP }, actor: { id: alice.id } });
    expect(roleChange.targetIds).toEqual(expect.arrayContaining([projectP, carol.id]));
    // The token shown once is in no row.
    expect(JSON.stringify(await auditRows(t.databaseUrl))).not.toContain(created.createApiToken.token);
  });

  it("records a mutation sent over WebSocket like one sent over HTTP", async () => {
    const result = await overWebSocket(t.url, alice.client.token!, UPDATE_PROJECT, { id: projectP, input: { description: "over ws" } });
    expect(result.data.updateProject.userErrors).toEqual([]);
    const [newest] = nodes(await events(alice, { projectId: projectP, first: 1 }));
    expect(newest).toMatchObject({ operation: "updateProject", actor: { id: alice.id }, tokenPrefix: prefixOf(alice), outcome: "OK", targetIds: [projectP] });
    // The connection's request id and the operation's id within it.
    expect(newest.requestId).toMatch(/^[\w.-]+:[\w-]+$/);
    expect(newest.clientAddress).toMatch(/127\.0\.0\.1$/);
  });

  it("lets a project's ADMINs read their project's events, global admins everything, and refuses anyone else", async () => {
    for (const who of [bob, carol, dave]) {
      expect(await who.client.errorCode(EVENTS, { projectId: projectP }), who.name).toBe("FORBIDDEN");
    }
    expect(await alice.client.errorCode(EVENTS, {}), "a project ADMIN asking for everything").toBe("FORBIDDEN");
    expect(await alice.client.errorCode(EVENTS, { projectId: projectQ }), "another project").toBe("FORBIDDEN");
    expect(await alice.client.errorCode(EVENTS, { projectId: "00000000-0000-4000-8000-000000000000" }), "no such project").toBe("FORBIDDEN");
    expect(await t.client().errorCode(EVENTS, {}), "anonymous").toBe("UNAUTHENTICATED");

    const ofP = nodes(await events(alice, { projectId: projectP, first: 100 }));
    expect(ofP.length).toBeGreaterThan(3);
    expect(ofP.every((event) => event.project?.id === projectP)).toBe(true);
    // dave's ADMIN role in Q lets him read Q (its creation is there), not P.
    expect(nodes(await events(dave, { projectId: projectQ })).map((event) => event.operation)).toContain("createProject");

    const everything = nodes(await events(t.admin, { first: 100 }));
    expect(everything.some((event) => event.project === null)).toBe(true); // createUser, createApiToken…
    expect(everything.some((event) => event.project?.id === projectQ)).toBe(true);
    expect(nodes(await events(t.admin, { projectId: projectP, first: 100 }))).toEqual(ofP);
  });

  it("pages newest first with cursors, and filters by operation, actor, outcome and time", async () => {
    const since = new Date();
    await sleep(5);
    for (let i = 0; i < 5; i++) await alice.client.ok(UPDATE_PROJECT, { id: projectP, input: { description: `page ${i}` } });
    const all = nodes(await events(alice, { projectId: projectP, first: 100 }));
    const ats = all.map((event) => Date.parse(event.at));
    expect(ats).toEqual([...ats].sort((a, b) => b - a));

    const paged: any[] = [];
    let after: string | null = null;
    let hasPreviousPage = false;
    for (let page = 0; page < 50; page++) {
      const connection: any = await events(alice, { projectId: projectP, first: 2, after });
      paged.push(...nodes(connection));
      expect(connection.pageInfo.hasPreviousPage).toBe(hasPreviousPage);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
      hasPreviousPage = true;
    }
    expect(paged).toEqual(all);

    expect(nodes(await events(alice, { projectId: projectP, filter: { since: since.toISOString() } }))).toHaveLength(5);
    expect(nodes(await events(alice, { projectId: projectP, filter: { until: since.toISOString() } })).length).toBe(all.length - 5);
    const denied = nodes(await events(alice, { projectId: projectP, filter: { outcome: "DENIED" } }));
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((event) => event.outcome === "DENIED")).toBe(true);
    const byBob = nodes(await events(alice, { projectId: projectP, filter: { actorId: bob.id } }));
    expect(byBob.length).toBeGreaterThan(0);
    expect(byBob.every((event) => event.actor.id === bob.id)).toBe(true);
    expect(nodes(await events(alice, { projectId: projectP, filter: { actorId: "not-an-id" } }))).toEqual([]);

    const badCursor = await alice.client.request(EVENTS, { projectId: projectP, after: "bm90LWEtY3Vyc29y" });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", argumentName: "after" });
    expect(await alice.client.errorCode(EVENTS, { projectId: projectP, first: 101 })).toBe("BAD_USER_INPUT");
  });
});

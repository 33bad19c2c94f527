// Projects and membership through the real HTTP server: who sees what, who may change what, and
// what a client gets back for bad input (a clear error, never a 500).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../support/fixtures.js";
import type { GraphQLClient } from "../support/graphql-client.js";

const PROJECT_FIELDS = "id name description myRole members { user { id name } role } createdAt updatedAt";
const PAYLOAD = `project { ${PROJECT_FIELDS} } userErrors { code field message }`;

const CREATE = `mutation($input: CreateProjectInput!) { createProject(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { ${PAYLOAD} } }`;
const DELETE = `mutation($id: ID!) { deleteProject(id: $id) { deletedProjectId userErrors { code field message } } }`;
const SET_MEMBER = `mutation($projectId: ID!, $input: SetProjectMemberInput!) { setProjectMember(projectId: $projectId, input: $input) { ${PAYLOAD} } }`;
const REMOVE_MEMBER = `mutation($projectId: ID!, $userId: ID!) { removeProjectMember(projectId: $projectId, userId: $userId) { ${PAYLOAD} } }`;
const BY_ID = `query($id: ID) { project(id: $id) { ${PROJECT_FIELDS} } }`;
const BY_NAME = `query($name: String) { project(name: $name) { ${PROJECT_FIELDS} } }`;
const LIST = `query($first: Int, $after: String) { projects(first: $first, after: $after) { edges { cursor node { id name myRole createdAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id name } token userErrors { code field } } }`;

interface Person {
  id: string;
  name: string;
  client: GraphQLClient;
}

describe("projects and membership", () => {
  const t = useServer();
  let adminId: string;
  let db: pg.Client;
  // Global USERs; each test makes the projects it needs so tests do not depend on one another.
  let alice: Person, bob: Person, carol: Person;
  let counter = 0;
  const uniqueName = (base: string) => `${base}-${++counter}`;

  async function newUser(name: string): Promise<Person> {
    const created = await t.admin.ok(CREATE_USER, { input: { name } });
    expect(created.createUser.userErrors).toEqual([]);
    return { id: created.createUser.user.id, name, client: t.client(created.createUser.token) };
  }

  async function createProject(owner: Person | GraphQLClient, name = uniqueName("proj"), description?: string) {
    const client = "client" in owner ? owner.client : owner;
    const result = await client.ok(CREATE, { input: { name, description } });
    expect(result.createProject.userErrors).toEqual([]);
    return result.createProject.project as { id: string; name: string; description: string | null; myRole: string; members: any[]; updatedAt: string };
  }

  /** Page through `projects` with pages of `size`, returning every page. */
  async function allPages(client: GraphQLClient, size: number) {
    const pages: any[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const page: any = (await client.ok(LIST, { first: size, after })).projects;
      pages.push(page);
      if (!page.pageInfo.hasNextPage) return pages;
      after = page.pageInfo.endCursor;
    }
    throw new Error("pagination never ended");
  }

  beforeAll(async () => {
    adminId = (await t.admin.ok("{ me { id } }")).me.id;
    alice = await newUser("alice");
    bob = await newUser("bob");
    carol = await newUser("carol");
    db = new pg.Client({ connectionString: t.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
  });

  describe("lifecycle", () => {
    it("creates a project whose creator becomes its only ADMIN, and finds it by id and by name", async () => {
      const name = uniqueName("lifecycle");
      const created = await alice.client.ok(CREATE, { input: { name, description: "First project" } });
      expect(created.createProject.userErrors).toEqual([]);
      const project = created.createProject.project;
      expect(project).toMatchObject({ name, description: "First project", myRole: "ADMIN" });
      expect(project.members).toEqual([{ user: { id: alice.id, name: "alice" }, role: "ADMIN" }]);
      expect(new Date(project.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

      const byId = await alice.client.ok(BY_ID, { id: project.id });
      expect(byId.project).toMatchObject({ id: project.id, name, myRole: "ADMIN" });
      const byName = await alice.client.ok(BY_NAME, { name });
      expect(byName.project).toMatchObject({ id: project.id, name, myRole: "ADMIN" });
    });

    it("updates name and description, keeps absent fields, clears description with null", async () => {
      const project = await createProject(alice, uniqueName("before"), "old text");
      const newName = uniqueName("after");

      const renamed = await alice.client.ok(UPDATE, { id: project.id, input: { name: newName } });
      expect(renamed.updateProject.userErrors).toEqual([]);
      expect(renamed.updateProject.project).toMatchObject({ id: project.id, name: newName, description: "old text" });
      expect(new Date(renamed.updateProject.project.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(project.updatedAt).getTime());
      // The old name no longer resolves; the new one does.
      expect((await alice.client.ok(BY_NAME, { name: project.name })).project).toBeNull();
      expect((await alice.client.ok(BY_NAME, { name: newName })).project.id).toBe(project.id);

      const described = await alice.client.ok(UPDATE, { id: project.id, input: { description: "new text" } });
      expect(described.updateProject.project).toMatchObject({ name: newName, description: "new text" });

      const cleared = await alice.client.ok(UPDATE, { id: project.id, input: { description: null } });
      expect(cleared.updateProject.project).toMatchObject({ name: newName, description: null });
      expect((await alice.client.ok(BY_ID, { id: project.id })).project.description).toBeNull();
    });

    it("deletes a project; afterwards it is gone by id, by name and from the list", async () => {
      const project = await createProject(alice);
      const deleted = await alice.client.ok(DELETE, { id: project.id });
      expect(deleted.deleteProject).toEqual({ deletedProjectId: project.id, userErrors: [] });
      expect((await alice.client.ok(BY_ID, { id: project.id })).project).toBeNull();
      expect((await alice.client.ok(BY_NAME, { name: project.name })).project).toBeNull();
      const listed = await allPages(alice.client, 100);
      expect(listed.flatMap((page) => page.edges.map((edge: any) => edge.node.id))).not.toContain(project.id);
      // Deleting again: it no longer exists.
      const again = await alice.client.ok(DELETE, { id: project.id });
      expect(again.deleteProject).toMatchObject({ deletedProjectId: null, userErrors: [{ code: "NOT_FOUND", field: ["id"] }] });
      // The name is free again.
      await createProject(alice, project.name);
    });

    it("deleting the same project twice at once: one succeeds, the others get NOT_FOUND", async () => {
      const project = await createProject(alice);
      const results = await Promise.all(Array.from({ length: 4 }, () => alice.client.request(DELETE, { id: project.id })));
      for (const result of results) expect(result.errors, result.raw).toBeUndefined();
      const payloads = results.map((result) => result.data.deleteProject);
      expect(payloads.filter((p) => p.deletedProjectId === project.id)).toHaveLength(1);
      for (const payload of payloads.filter((p) => p.deletedProjectId === null)) {
        expect(payload.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["id"] })]);
      }
    });

    it("refuses to delete a project that still has a backend, and deletes it once the backend is gone", async () => {
      const project = await createProject(alice);
      const backend = await db.query<{ id: string }>(
        `INSERT INTO "Backend" (id, "projectId", name, "awsRegion", "awsBucket", "awsCredentialsMode", "updatedAt")
         VALUES (gen_random_uuid(), $1, 'main', 'eu-west-1', 'some-bucket', 'DEFAULT', now()) RETURNING id`,
        [project.id],
      );
      const refused = await alice.client.ok(DELETE, { id: project.id });
      expect(refused.deleteProject.deletedProjectId).toBeNull();
      expect(refused.deleteProject.userErrors).toEqual([expect.objectContaining({ code: "BACKEND_BUSY", field: ["id"] })]);
      expect(refused.deleteProject.userErrors[0].message).toMatch(/backend/i);
      expect((await alice.client.ok(BY_ID, { id: project.id })).project.id).toBe(project.id);

      await db.query(`DELETE FROM "Backend" WHERE id = $1`, [backend.rows[0].id]);
      const deleted = await alice.client.ok(DELETE, { id: project.id });
      expect(deleted.deleteProject).toEqual({ deletedProjectId: project.id, userErrors: [] });
    });
  });

  describe("visibility", () => {
    it("lists only the caller's projects; a global admin sees all, with myRole null where not a member", async () => {
      const mine = await createProject(alice);
      const theirs = await createProject(bob);

      const aliceIds = (await allPages(alice.client, 100)).flatMap((page) => page.edges.map((edge: any) => edge.node.id));
      expect(aliceIds).toContain(mine.id);
      expect(aliceIds).not.toContain(theirs.id);
      const bobIds = (await allPages(bob.client, 100)).flatMap((page) => page.edges.map((edge: any) => edge.node.id));
      expect(bobIds).toContain(theirs.id);
      expect(bobIds).not.toContain(mine.id);
      // Carol belongs to nothing yet in this test's projects.
      const carolIds = (await allPages(carol.client, 100)).flatMap((page) => page.edges.map((edge: any) => edge.node.id));
      expect(carolIds).not.toContain(mine.id);
      expect(carolIds).not.toContain(theirs.id);

      const adminNodes = (await allPages(t.admin, 100)).flatMap((page) => page.edges.map((edge: any) => edge.node));
      const everyProject = await db.query<{ id: string }>(`SELECT id FROM "Project"`);
      expect(adminNodes.map((node: any) => node.id).sort()).toEqual(everyProject.rows.map((row) => row.id).sort());
      expect(adminNodes.find((node: any) => node.id === mine.id)).toMatchObject({ myRole: null });
      expect((await t.admin.ok(BY_ID, { id: mine.id })).project).toMatchObject({ id: mine.id, myRole: null });
      // An admin's own project shows their role.
      const adminOwn = await createProject(t.admin);
      expect(adminOwn.myRole).toBe("ADMIN");
    });

    it("a global admin who is not a member can still manage the project", async () => {
      const project = await createProject(alice);
      const renamed = await t.admin.ok(UPDATE, { id: project.id, input: { description: "set by admin" } });
      expect(renamed.updateProject).toMatchObject({ userErrors: [], project: { description: "set by admin", myRole: null } });
      const added = await t.admin.ok(SET_MEMBER, { projectId: project.id, input: { userId: carol.id, role: "VIEWER" } });
      expect(added.setProjectMember.userErrors).toEqual([]);
      expect((await carol.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("VIEWER");
    });

    it("a non-member gets null by id and by name, and NOT_FOUND for every mutation; nothing changes", async () => {
      const project = await createProject(alice, uniqueName("secret"), "hidden");
      expect((await bob.client.ok(BY_ID, { id: project.id })).project).toBeNull();
      expect((await bob.client.ok(BY_NAME, { name: project.name })).project).toBeNull();

      const update = await bob.client.ok(UPDATE, { id: project.id, input: { description: "hacked" } });
      expect(update.updateProject).toMatchObject({ project: null, userErrors: [{ code: "NOT_FOUND", field: ["id"] }] });
      const del = await bob.client.ok(DELETE, { id: project.id });
      expect(del.deleteProject).toMatchObject({ deletedProjectId: null, userErrors: [{ code: "NOT_FOUND", field: ["id"] }] });
      const join = await bob.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "ADMIN" } });
      expect(join.setProjectMember).toMatchObject({ project: null, userErrors: [{ code: "NOT_FOUND", field: ["projectId"] }] });
      const kick = await bob.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: alice.id });
      expect(kick.removeProjectMember).toMatchObject({ project: null, userErrors: [{ code: "NOT_FOUND", field: ["projectId"] }] });

      // The error does not leak the project's name, and the project is untouched.
      expect(JSON.stringify([update, del, join, kick])).not.toContain(project.name);
      const after = (await alice.client.ok(BY_ID, { id: project.id })).project;
      expect(after).toMatchObject({ name: project.name, description: "hidden" });
      expect(after.members).toEqual([{ user: { id: alice.id, name: "alice" }, role: "ADMIN" }]);
    });
  });

  describe("roles", () => {
    it("VIEWER and USER members can read but get FORBIDDEN on changes; nothing changes", async () => {
      const project = await createProject(alice, uniqueName("roles"), "as it was");
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "VIEWER" } });
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: carol.id, role: "USER" } });

      expect((await bob.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("VIEWER");
      expect((await carol.client.ok(BY_NAME, { name: project.name })).project.myRole).toBe("USER");
      const bobList = (await allPages(bob.client, 100)).flatMap((page) => page.edges.map((edge: any) => edge.node));
      expect(bobList.find((node: any) => node.id === project.id)).toMatchObject({ myRole: "VIEWER" });

      for (const member of [bob, carol]) {
        const attempts = [
          member.client.request(UPDATE, { id: project.id, input: { description: "changed" } }),
          member.client.request(DELETE, { id: project.id }),
          member.client.request(SET_MEMBER, { projectId: project.id, input: { userId: member.id, role: "ADMIN" } }),
          member.client.request(REMOVE_MEMBER, { projectId: project.id, userId: alice.id }),
        ];
        for (const response of await Promise.all(attempts)) {
          expect(response.status).toBe(200);
          expect(response.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
          expect(response.errors?.[0]?.message).toMatch(/ADMIN/);
        }
      }
      const after = (await alice.client.ok(BY_ID, { id: project.id })).project;
      expect(after.description).toBe("as it was");
      expect(after.members.map((m: any) => [m.user.name, m.role])).toEqual([
        ["alice", "ADMIN"],
        ["bob", "VIEWER"],
        ["carol", "USER"],
      ]);
    });
  });

  describe("membership", () => {
    it("adds a member, changes their role, removes them; the removed member no longer sees the project", async () => {
      const project = await createProject(alice);
      const added = await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "VIEWER" } });
      expect(added.setProjectMember.userErrors).toEqual([]);
      expect(added.setProjectMember.project.members).toEqual([
        { user: { id: alice.id, name: "alice" }, role: "ADMIN" },
        { user: { id: bob.id, name: "bob" }, role: "VIEWER" },
      ]);
      expect((await bob.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("VIEWER");

      const promoted = await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "USER" } });
      expect(promoted.setProjectMember.userErrors).toEqual([]);
      expect(promoted.setProjectMember.project.members).toHaveLength(2);
      expect((await bob.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("USER");

      const removed = await alice.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: bob.id });
      expect(removed.removeProjectMember.userErrors).toEqual([]);
      expect(removed.removeProjectMember.project.members).toEqual([{ user: { id: alice.id, name: "alice" }, role: "ADMIN" }]);
      expect((await bob.client.ok(BY_ID, { id: project.id })).project).toBeNull();

      // Removing someone who is not a member is NOT_FOUND, not a crash.
      const again = await alice.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: bob.id });
      expect(again.removeProjectMember.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["userId"] })]);
    });

    it("lets any member leave by removing themselves", async () => {
      const project = await createProject(alice);
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: carol.id, role: "VIEWER" } });
      const left = await carol.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: carol.id });
      expect(left.removeProjectMember.userErrors).toEqual([]);
      expect((await carol.client.ok(BY_ID, { id: project.id })).project).toBeNull();
      const members = (await alice.client.ok(BY_ID, { id: project.id })).project.members;
      expect(members.map((m: any) => m.user.name)).toEqual(["alice"]);
    });

    it("refuses to demote or remove the last ADMIN (LAST_ADMIN), and allows it once another ADMIN exists", async () => {
      const project = await createProject(alice);
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "USER" } });

      const demote = await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: alice.id, role: "USER" } });
      expect(demote.setProjectMember).toMatchObject({ project: null, userErrors: [{ code: "LAST_ADMIN", field: ["input", "role"] }] });
      const leave = await alice.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: alice.id });
      expect(leave.removeProjectMember).toMatchObject({ project: null, userErrors: [{ code: "LAST_ADMIN", field: ["userId"] }] });
      // Not even a global admin can leave the project without an ADMIN.
      const byAdmin = await t.admin.ok(REMOVE_MEMBER, { projectId: project.id, userId: alice.id });
      expect(byAdmin.removeProjectMember.userErrors).toEqual([expect.objectContaining({ code: "LAST_ADMIN" })]);
      expect((await alice.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("ADMIN");

      // With a second ADMIN, the first may step down and then leave.
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "ADMIN" } });
      const stepDown = await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: alice.id, role: "VIEWER" } });
      expect(stepDown.setProjectMember.userErrors).toEqual([]);
      expect((await alice.client.ok(BY_ID, { id: project.id })).project.myRole).toBe("VIEWER");
      // Now bob is the last ADMIN.
      const bobDemote = await bob.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "VIEWER" } });
      expect(bobDemote.setProjectMember.userErrors).toEqual([expect.objectContaining({ code: "LAST_ADMIN" })]);
      const aliceLeaves = await alice.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: alice.id });
      expect(aliceLeaves.removeProjectMember.userErrors).toEqual([]);
      expect((await bob.client.ok(BY_ID, { id: project.id })).project.members).toEqual([{ user: { id: bob.id, name: "bob" }, role: "ADMIN" }]);
    });

    it("keeps one ADMIN when two ADMINs step down at the same time", async () => {
      const project = await createProject(alice);
      await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: bob.id, role: "ADMIN" } });
      const [aliceDown, bobOut] = await Promise.all([
        alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId: alice.id, role: "VIEWER" } }),
        bob.client.ok(REMOVE_MEMBER, { projectId: project.id, userId: bob.id }),
      ]);
      const errors = [...aliceDown.setProjectMember.userErrors, ...bobOut.removeProjectMember.userErrors];
      expect(errors).toEqual([expect.objectContaining({ code: "LAST_ADMIN" })]);
      const members = (await t.admin.ok(BY_ID, { id: project.id })).project.members;
      expect(members.filter((m: any) => m.role === "ADMIN")).toHaveLength(1);
    });

    it("answers NOT_FOUND on [input, userId] for an unknown user", async () => {
      const project = await createProject(alice);
      for (const userId of [randomUUID(), "not-a-uuid", ""]) {
        const result = await alice.client.ok(SET_MEMBER, { projectId: project.id, input: { userId, role: "USER" } });
        expect(result.setProjectMember).toMatchObject({ project: null, userErrors: [{ code: "NOT_FOUND", field: ["input", "userId"] }] });
      }
      expect((await alice.client.ok(BY_ID, { id: project.id })).project.members).toHaveLength(1);
    });
  });

  describe("names and input limits", () => {
    it("refuses a duplicate name with NAME_TAKEN, on create and on rename", async () => {
      const first = await createProject(alice, uniqueName("taken"));
      // Another user cannot take it either: names are unique across the service.
      const dup = await bob.client.ok(CREATE, { input: { name: first.name } });
      expect(dup.createProject).toMatchObject({ project: null, userErrors: [{ code: "NAME_TAKEN", field: ["input", "name"] }] });
      expect(dup.createProject.userErrors[0].message).toContain(first.name);

      const second = await createProject(alice);
      const rename = await alice.client.ok(UPDATE, { id: second.id, input: { name: first.name } });
      expect(rename.updateProject).toMatchObject({ project: null, userErrors: [{ code: "NAME_TAKEN", field: ["input", "name"] }] });
      expect((await alice.client.ok(BY_ID, { id: second.id })).project.name).toBe(second.name);
      // Renaming a project to its own name is fine.
      const same = await alice.client.ok(UPDATE, { id: second.id, input: { name: second.name } });
      expect(same.updateProject.userErrors).toEqual([]);
    });

    it("accepts the edge lengths of a slug (3 and 50) and digits and inner dashes", async () => {
      for (const name of ["a1b", `x${"-9".repeat(24)}z`, "0-0"]) {
        expect(name.length === 3 || name.length === 50).toBe(true);
        const result = await alice.client.ok(CREATE, { input: { name } });
        expect(result.createProject.userErrors).toEqual([]);
        expect(result.createProject.project.name).toBe(name);
      }
    });

    it.each([
      ["upper-case", "My-Project"],
      ["too short", "ab"],
      ["empty", ""],
      ["too long (51)", "a".repeat(51)],
      ["leading dash", "-project"],
      ["trailing dash", "project-"],
      ["spaces", "my project"],
      ["surrounding spaces", " project "],
      ["unicode", "projekt-ü"],
      ["emoji", "rocket-🚀"],
      ["underscore", "my_project"],
      ["dot", "my.project"],
      ["NUL byte", "abc\u0000def"],
    ])("refuses a %s name with INVALID_INPUT on [input, name]", async (_label, name) => {
      const created = await alice.client.request(CREATE, { input: { name } });
      expect(created.status).toBe(200);
      expect(created.errors).toBeUndefined();
      expect(created.data.createProject).toMatchObject({ project: null, userErrors: [{ code: "INVALID_INPUT", field: ["input", "name"] }] });
      expect(created.data.createProject.userErrors[0].message).toMatch(/3 to 50|lower-case|control characters/);

      const existing = await createProject(alice);
      const renamed = await alice.client.request(UPDATE, { id: existing.id, input: { name } });
      expect(renamed.errors).toBeUndefined();
      expect(renamed.data.updateProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "name"] })]);
      expect((await alice.client.ok(BY_ID, { id: existing.id })).project.name).toBe(existing.name);
    });

    it("reports every problem of an input at once", async () => {
      const result = await alice.client.ok(CREATE, { input: { name: "X", description: "d".repeat(1001) } });
      expect(result.createProject.userErrors.map((e: any) => e.field)).toEqual([
        ["input", "name"],
        ["input", "description"],
      ]);
    });

    it("gives clear errors for oversized inputs, never a 500", async () => {
      // A description of exactly 1000 characters is accepted; 1001 is not.
      const ok = await alice.client.ok(CREATE, { input: { name: uniqueName("long-desc"), description: "d".repeat(1000) } });
      expect(ok.createProject.userErrors).toEqual([]);
      expect(ok.createProject.project.description).toHaveLength(1000);
      const tooLong = await alice.client.ok(CREATE, { input: { name: uniqueName("long-desc"), description: "d".repeat(1001) } });
      expect(tooLong.createProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "description"] })]);
      expect(tooLong.createProject.userErrors[0].message).toMatch(/1000/);
      const updateTooLong = await alice.client.ok(UPDATE, { id: ok.createProject.project.id, input: { description: "d".repeat(5000) } });
      expect(updateTooLong.updateProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "description"] })]);

      // A 10,000-character name: a field error naming the limit, not an echo of the value.
      const hugeName = await alice.client.request(CREATE, { input: { name: "n".repeat(10_000) } });
      expect(hugeName.status).toBe(200);
      expect(hugeName.data.createProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "name"] })]);
      expect(hugeName.data.createProject.userErrors[0].message).toMatch(/3 to 50/);
      expect(hugeName.raw.length).toBeLessThan(2_000);
      // Looking a huge name up is simply "not there".
      expect((await alice.client.ok(BY_NAME, { name: "n".repeat(10_000) })).project).toBeNull();

      // A request body over 1 MB: HTTP 413 with a coded error in GraphQL's shape.
      const big = await alice.client.request(CREATE, { input: { name: uniqueName("big"), description: "d".repeat(1_100_000) } });
      expect(big.status).toBe(413);
      expect(big.errors?.[0]?.extensions?.code).toBe("PAYLOAD_TOO_LARGE");
      expect(big.errors?.[0]?.message).toMatch(/limit/);
    });

    it("refuses text the database cannot store (a NUL character) as INVALID_INPUT, not a 500", async () => {
      const result = await alice.client.request(CREATE, { input: { name: uniqueName("nul"), description: "before\u0000after" } });
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data.createProject.userErrors).toEqual([expect.objectContaining({ code: "INVALID_INPUT", field: ["input", "description"] })]);
      // Looking up such a name finds nothing, rather than failing.
      const lookup = await alice.client.request(BY_NAME, { name: "abc\u0000" });
      expect(lookup.errors).toBeUndefined();
      expect(lookup.data.project).toBeNull();
    });
  });

  describe("ids that are not UUIDs", () => {
    it("answer null for queries and NOT_FOUND for mutations, never an internal error", async () => {
      const project = await createProject(alice);
      for (const id of ["not-a-uuid", "123", "' OR 1=1 --", "x".repeat(5000)]) {
        const query = await alice.client.request(BY_ID, { id });
        expect(query.status).toBe(200);
        expect(query.errors).toBeUndefined();
        expect(query.data.project).toBeNull();

        const responses = await Promise.all([
          alice.client.request(UPDATE, { id, input: { description: "x" } }),
          alice.client.request(DELETE, { id }),
          alice.client.request(SET_MEMBER, { projectId: id, input: { userId: bob.id, role: "USER" } }),
          alice.client.request(REMOVE_MEMBER, { projectId: id, userId: bob.id }),
        ]);
        for (const response of responses) {
          expect(response.status).toBe(200);
          expect(response.errors).toBeUndefined();
          const payload: any = Object.values(response.data)[0];
          expect(payload.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND" })]);
        }
        const removeBadUser = await alice.client.request(REMOVE_MEMBER, { projectId: project.id, userId: id });
        expect(removeBadUser.errors).toBeUndefined();
        expect(removeBadUser.data.removeProjectMember.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["userId"] })]);
      }
      // A UUID that is simply unknown behaves the same.
      expect((await alice.client.ok(BY_ID, { id: randomUUID() })).project).toBeNull();
      // No arguments at all: nothing to find.
      expect((await alice.client.ok("{ project { id } }")).project).toBeNull();
    });
  });

  describe("pagination", () => {
    let pager: Person;
    let createdIds: string[];

    beforeAll(async () => {
      pager = await newUser("pager");
      createdIds = [];
      for (let i = 0; i < 25; i++) createdIds.push((await createProject(pager, `page-${String(i).padStart(2, "0")}`)).id);
    });

    it("pages of 10 via first/after return all 25 exactly once, oldest first, with correct pageInfo", async () => {
      const pages = await allPages(pager.client, 10);
      expect(pages.map((page) => page.edges.length)).toEqual([10, 10, 5]);
      expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
      expect(pages.map((page) => page.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
      for (const page of pages) {
        expect(page.pageInfo.startCursor).toBe(page.edges[0].cursor);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      }
      const nodes = pages.flatMap((page) => page.edges.map((edge: any) => edge.node));
      const ids = nodes.map((node: any) => node.id);
      expect(new Set(ids).size).toBe(25);
      expect([...ids].sort()).toEqual([...createdIds].sort());
      // Oldest first: creation order, which is also the order of the names we gave them.
      const times = nodes.map((node: any) => new Date(node.createdAt).getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // The same order as one big page.
      const single = (await pager.client.ok(LIST, { first: 100 })).projects;
      expect(single.edges.map((edge: any) => edge.node.id)).toEqual(ids);
      expect(single.pageInfo.hasNextPage).toBe(false);
      // After the last item: an empty page.
      const tail = (await pager.client.ok(LIST, { first: 10, after: pages[2].pageInfo.endCursor })).projects;
      expect(tail.edges).toEqual([]);
      expect(tail.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
    });

    it("an exact final page says there is no next page", async () => {
      const first = (await pager.client.ok(LIST, { first: 5 })).projects;
      const rest = (await pager.client.ok(LIST, { first: 20, after: first.pageInfo.endCursor })).projects;
      expect(rest.edges).toHaveLength(20);
      expect(rest.pageInfo.hasNextPage).toBe(false);
    });

    it("defaults to 20 items and allows up to 100", async () => {
      const page = (await pager.client.ok(LIST, {})).projects;
      expect(page.edges).toHaveLength(20);
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect((await pager.client.ok(LIST, { first: 100 })).projects.edges).toHaveLength(25);
    });

    it("refuses first > 100 or negative with BAD_USER_INPUT", async () => {
      for (const first of [101, 1000, -1]) {
        const response = await pager.client.request(LIST, { first });
        expect(response.status).toBe(200);
        expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
        expect(response.errors?.[0]?.message).toMatch(/100/);
      }
    });

    it("refuses a cursor it did not issue with BAD_USER_INPUT", async () => {
      const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const cursors = [
        "garbage",
        "!!!",
        "x".repeat(10_000),
        forged({ not: "an array" }),
        forged(["not a date", randomUUID()]),
        forged([new Date().toISOString(), "not-a-uuid"]),
        forged([new Date().toISOString(), 42]),
        forged(null),
      ];
      for (const after of cursors) {
        const response = await pager.client.request(LIST, { first: 10, after });
        expect(response.status, after.slice(0, 40)).toBe(200);
        expect(response.errors?.[0]?.extensions?.code, `cursor ${after.slice(0, 40)}: ${response.raw.slice(0, 300)}`).toBe("BAD_USER_INPUT");
      }
    });

    it("shows a member only the projects they belong to, even across pages", async () => {
      const shared = createdIds.filter((_, i) => i % 5 === 0);
      for (const projectId of shared) {
        await pager.client.ok(SET_MEMBER, { projectId, input: { userId: carol.id, role: "VIEWER" } });
      }
      const carolIds = (await allPages(carol.client, 2)).flatMap((page) => page.edges.map((edge: any) => edge.node.id));
      expect(carolIds.filter((id: string) => createdIds.includes(id))).toEqual(shared);
    });
  });
});

// User and project names through the real server: invisible and bidirectional control characters
// (Unicode Cf and Cc) are refused, naming the code point; names are stored in NFC, so the same
// name typed with a combining accent is the same name; lengths count code points and say so.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const ERRORS = "userErrors { code field message }";
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id name } ${ERRORS} } }`;
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name } ${ERRORS} } }`;
const UPDATE_PROJECT = `mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { project { id name } ${ERRORS} } }`;
const NAME_FIELD = ["input", "name"];

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.close());

const createUser = async (name: string) => (await t.admin.ok(CREATE_USER, { input: { name } })).createUser;
const createProject = async (name: string) => (await t.admin.ok(CREATE_PROJECT, { input: { name } })).createProject;

describe("user names", () => {
  it.each([
    ["a right-to-left override (Cf)", "ali\u202Eecilade", "U+202E"],
    ["a zero-width space (Cf)", "\u200Bbob", "U+200B"],
    ["a zero-width joiner and a left-to-right mark (Cf)", "car\u200Dol\u200E", "U+200D, U+200E"],
    ["a bell (Cc)", "dave\u0007", "U+0007"],
  ])("refuses %s, naming the code point", async (_what, name, named) => {
    const created = await createUser(name);
    expect(created).toEqual({
      user: null,
      userErrors: [{ code: "INVALID_INPUT", field: NAME_FIELD, message: `User name must not contain invisible or bidirectional control characters (found ${named}).` }],
    });
  });

  it("stores the name in NFC: the same name with a combining accent is NAME_TAKEN", async () => {
    const composed = "Ren\u00e9e";
    const decomposed = "Rene\u0301e";
    const first = await createUser(decomposed);
    expect(first.userErrors).toEqual([]);
    expect(first.user.name).toBe(composed);
    const again = await createUser(composed);
    expect(again.userErrors).toEqual([{ code: "NAME_TAKEN", field: NAME_FIELD, message: `A user named "${composed}" already exists.` }]);
  });

  it("counts code points: 64 emoji (128 UTF-16 units) fit; 65 do not, and the message says how it counts", async () => {
    const fits = await createUser("🙂".repeat(64));
    expect(fits.userErrors).toEqual([]);
    const tooLong = await createUser("🙃".repeat(65));
    expect(tooLong.userErrors).toEqual([
      { code: "INVALID_INPUT", field: NAME_FIELD, message: "User name must be 1 to 64 characters (Unicode code points) long (got 65)." },
    ]);
  });
});

describe("project names", () => {
  it("refuses invisible and bidirectional control characters, naming them, on create and on update", async () => {
    const created = await createProject("team\u202Eevil");
    expect(created.userErrors).toEqual([
      { code: "INVALID_INPUT", field: NAME_FIELD, message: "Project name must not contain invisible or bidirectional control characters (found U+202E)." },
    ]);
    const project = await createProject("names-team");
    expect(project.userErrors).toEqual([]);
    const updated = (await t.admin.ok(UPDATE_PROJECT, { id: project.project.id, input: { name: "names\u200Bteam" } })).updateProject;
    expect(updated.userErrors).toEqual([
      { code: "INVALID_INPUT", field: NAME_FIELD, message: "Project name must not contain invisible or bidirectional control characters (found U+200B)." },
    ]);
  });

  it("counts code points in the length limit and says so", async () => {
    const created = await createProject("🙂".repeat(51));
    expect(created.userErrors).toEqual([
      { code: "INVALID_INPUT", field: NAME_FIELD, message: "Project name must be 3 to 50 characters (Unicode code points) long (got 51)." },
    ]);
  });
});

// The typed client (client/src/client.ts) against the real server: typed data, typed errors,
// optional variables and pagination, a token created through it, project membership, and a
// subscription that ends cleanly.
import { describe, expect, it } from "vitest";
import {
  AwsIamPolicyDocument,
  AwsRegionsDocument,
  CreateApiTokenDocument,
  CreateProjectDocument,
  GraphQLRequestError,
  MeDocument,
  ProjectByNameDocument,
  ProjectsDocument,
  ProvisioningRunUpdatedDocument,
  SetProjectMemberDocument,
  UserErrorsError,
  assertNoUserErrors,
  createClient,
  watchProvisioningRun,
} from "../../client/src/client.js";
import { useServer } from "../support/fixtures.js";

describe("typed client", () => {
  const t = useServer();

  it("returns typed data, logs in with a token it created, and pages through projects", async () => {
    const admin = createClient({ url: t.url, token: t.adminToken });
    const { me } = await admin.request(MeDocument);
    expect(me).toMatchObject({ name: "admin", globalRole: "ADMIN" });

    const { createApiToken } = await admin.request(CreateApiTokenDocument, { input: { name: "typed client" } });
    expect(createApiToken.userErrors).toEqual([]);
    const viaToken = createClient({ url: t.url, token: createApiToken.token! });
    expect((await viaToken.request(MeDocument)).me.id).toBe(me.id);

    for (const name of ["client-a", "client-b", "client-c"]) {
      assertNoUserErrors("createProject", (await admin.request(CreateProjectDocument, { input: { name } })).createProject);
    }
    const names: string[] = [];
    let after: string | null | undefined;
    let pages = 0;
    for (;;) {
      const { projects } = await admin.request(ProjectsDocument, { first: 2, after });
      names.push(...projects.edges.map((edge) => edge.node.name));
      pages++;
      if (!projects.pageInfo.hasNextPage) break;
      after = projects.pageInfo.endCursor;
    }
    expect(names).toEqual(["client-a", "client-b", "client-c"]);
    expect(pages).toBe(2);
    expect((await admin.request(ProjectsDocument)).projects.edges).toHaveLength(3); // variables are optional here
  });

  it("manages members, and reports userErrors as data (assertNoUserErrors turns them into an error)", async () => {
    const admin = createClient({ url: t.url, token: t.adminToken });
    const user = await t.admin.ok(`mutation { createUser(input: { name: "client-member" }) { user { id } } }`);
    const { createProject } = await admin.request(CreateProjectDocument, { input: { name: "client-members" } });
    const projectId = createProject.project!.id;
    const { setProjectMember } = await admin.request(SetProjectMemberDocument, {
      projectId,
      input: { userId: user.createUser.user.id, role: "VIEWER" },
    });
    expect(setProjectMember.userErrors).toEqual([]);
    const { project } = await admin.request(ProjectByNameDocument, { name: "client-members" });
    expect(project?.members.map((m) => [m.user.name, m.role]).sort()).toEqual([
      ["admin", "ADMIN"],
      ["client-member", "VIEWER"],
    ]);

    const taken = await admin.request(CreateProjectDocument, { input: { name: "client-members" } });
    expect(taken.createProject.userErrors.map((e) => e.code)).toEqual(["NAME_TAKEN"]);
    expect(() => assertNoUserErrors("createProject", taken.createProject)).toThrow(UserErrorsError);
    expect(() => assertNoUserErrors("createProject", taken.createProject)).toThrow(/^createProject: NAME_TAKEN \(input\.name\): /);
  });

  it("answers static AWS queries", async () => {
    const admin = createClient({ url: t.url, token: t.adminToken });
    const { awsRegions } = await admin.request(AwsRegionsDocument);
    expect(awsRegions.map((r) => r.code)).toContain("eu-west-1");
    const { awsIamPolicy } = await admin.request(AwsIamPolicyDocument, { bucketName: "my-bucket" });
    expect(JSON.parse(awsIamPolicy.json)).toEqual(awsIamPolicy.document);
  });

  it("throws GraphQLRequestError with the error code, the HTTP status and the errors", async () => {
    const anonymous = createClient({ url: t.url, token: "bh_not-a-real-token-0000000000000000000000" });
    const error = await anonymous.request(MeDocument).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    const requestError = error as GraphQLRequestError;
    expect(requestError.code).toBe("UNAUTHENTICATED");
    expect(requestError.hasCode("UNAUTHENTICATED")).toBe(true);
    expect(requestError.status).toBe(401);
    expect(requestError.errors[0]!.message).toMatch(/token/i);

    const notGraphQL = createClient({ url: t.url.replace(/\/graphql$/, "/no-such-path") });
    const httpError = (await notGraphQL.request(MeDocument).catch((e: unknown) => e)) as GraphQLRequestError;
    expect(httpError).toBeInstanceOf(GraphQLRequestError);
    expect(httpError.status).toBe(404);
    expect(httpError.errors).toEqual([]);
  });

  it("subscriptions: an unknown run ends the stream without events, and dispose closes the socket", async () => {
    const admin = createClient({ url: t.url, token: t.adminToken });
    const events: unknown[] = [];
    for await (const run of watchProvisioningRun(admin, "00000000-0000-0000-0000-000000000000")) events.push(run);
    expect(events).toEqual([]);
    const raw: unknown[] = [];
    for await (const event of admin.subscribe(ProvisioningRunUpdatedDocument, { id: "nope" })) raw.push(event);
    expect(raw).toEqual([]);
    await admin.dispose();
  });
});

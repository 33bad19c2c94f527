// Property-based fuzzing of every input the API takes (fast-check, seeded, bounded runs), through
// the real HTTP server with moto as AWS: names, bucket names, regions, subnet ids, credentials and
// other secret values, tokens, cursors, page sizes, ids, dates; CIDRs through configuration.
// Whatever goes in, the answer is data or a coded error: never a 500, never a crash.
import net from "node:net";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { useMoto, useServer } from "../support/fixtures.js";
import { createBucket, createIamUser, policy } from "../support/moto-iam.js";
import { anyInt, anyJson, anyString, awsIdLike, bucketLike, expectWellFormed, regionLike, runs, slugish } from "./fuzz-support.js";

const USER_ERRORS = "userErrors { code field message }";
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name description } ${USER_ERRORS} } }`;
const UPDATE_PROJECT = `mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { project { id name } ${USER_ERRORS} } }`;
const DISCOVER = `mutation($input: DiscoverAwsBackendInput!) { discoverAwsBackend(input: $input) { identity { arn } buckets { name } subnets { id } ${USER_ERRORS} } }`;
const CREATE_BACKEND = `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id aws { accessKeyIdHint } } ${USER_ERRORS} } }`;
const UPDATE_BACKEND = `mutation($id: ID!, $input: UpdateAwsBackendInput!) { updateAwsBackend(id: $id, input: $input) { backend { id } ${USER_ERRORS} } }`;
const SET_SECRET = `mutation($projectId: ID!, $backendId: ID!, $input: SetProjectSecretInput!) { setProjectSecret(projectId: $projectId, backendId: $backendId, input: $input) { secret { name } ${USER_ERRORS} } }`;
const IAM_POLICY = `query($bucketName: String!) { awsIamPolicy(bucketName: $bucketName) { bucketName json } }`;
const PROJECTS = `query($first: Int, $after: String) { projects(first: $first, after: $after) { edges { cursor node { id } } pageInfo { endCursor hasNextPage } } }`;
const BACKENDS_PAGE = `query($id: ID, $first: Int, $after: String) { project(id: $id) { backends(first: $first, after: $after) { edges { cursor } } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } ${USER_ERRORS} } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } ${USER_ERRORS} } }`;
const SET_MEMBER = `mutation($projectId: ID!, $input: SetProjectMemberInput!) { setProjectMember(projectId: $projectId, input: $input) { project { id } ${USER_ERRORS} } }`;
const LAUNCH = `mutation($backendId: ID!, $input: LaunchInstanceInput!) { launchInstance(backendId: $backendId, input: $input) { instance { id } ${USER_ERRORS} } }`;

const credentialsArb = fc.oneof(
  fc.record({ mode: fc.constant("ACCESS_KEY"), accessKeyId: fc.option(fc.oneof(fc.stringMatching(/^AKIA[A-Z0-9]{16}$/), anyString(40))), secretAccessKey: fc.option(anyString(60)) }),
  fc.record({ mode: fc.constant("DEFAULT") }),
  fc.record({ mode: fc.constant("ACCESS_KEY") }),
);

/** A POST written byte by byte on a socket, so a header can carry bytes that fetch would refuse to send. */
async function rawPost(url: string, query: string, authorization: string): Promise<{ status: number; head: string; body: string; json?: any }> {
  const { hostname, port, pathname } = new URL(url);
  const body = Buffer.from(JSON.stringify({ query }));
  const head = Buffer.concat([
    Buffer.from(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\nauthorization: `),
    Buffer.from(authorization, "utf8"),
    Buffer.from("\r\n\r\n"),
  ]);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", (error) => (chunks.length ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(error)));
    socket.write(Buffer.concat([head, body]));
  });
  const split = raw.indexOf("\r\n\r\n");
  const responseHead = raw.slice(0, split);
  const responseBody = raw.slice(split + 4);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(responseHead)?.[1] ?? 0);
  let json: any;
  try {
    json = JSON.parse(responseBody);
  } catch {
    json = undefined;
  }
  return { status, head: responseHead, body: responseBody, json };
}

describe("fuzzing the inputs", () => {
  const moto = useMoto({ reset: "once" });
  const t = useServer(
    {
      RATE_LIMIT_AUTH_FAILURES: "1000000",
      RATE_LIMIT_AWS_MUTATIONS: "1000000",
      // Default credentials resolve to moto's dummy keys (never the machine's own).
      AWS_DEFAULT_CREDENTIALS: "disabled",
    },
    { aws: moto },
  );
  let projectId: string;
  let backendId: string;

  beforeAll(async () => {
    await createBucket(moto.endpoint, "fuzz-bucket", "us-east-1");
    const user = await createIamUser(moto.endpoint, { userName: "fuzz", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
    projectId = (await t.admin.ok(CREATE_PROJECT, { input: { name: "fuzz-home" } })).createProject.project.id;
    const created = await t.admin.ok(CREATE_BACKEND, {
      projectId,
      input: { region: "us-east-1", bucket: "fuzz-bucket", credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } },
    });
    expect(created.createAwsBackend.userErrors).toEqual([]);
    backendId = created.createAwsBackend.backend.id;
  });

  it("project names and descriptions (create, look up, rename)", async () => {
    await fc.assert(
      fc.asyncProperty(slugish(), fc.option(anyString(2_000)), async (name, description) => {
        const created = await t.admin.request(CREATE_PROJECT, { input: { name, description } });
        expectWellFormed(created, { name, description }, { payload: "createProject" });
        const byName = await t.admin.request(`query($name: String) { project(name: $name) { id name } }`, { name });
        expectWellFormed(byName, { name });
        const project = created.data?.createProject?.project;
        if (project) {
          expect(project.name).toBe(name);
          expect(byName.data?.project?.id).toBe(project.id);
        }
        const renamed = await t.admin.request(UPDATE_PROJECT, { id: project?.id ?? projectId, input: { name: `${name}x`, description } });
        expectWellFormed(renamed, { name, description }, { payload: "updateProject" });
      }),
      runs(40),
    );
  });

  it("bucket names (awsIamPolicy): the policy, or BAD_USER_INPUT naming the argument", async () => {
    await fc.assert(
      fc.asyncProperty(bucketLike(), async (bucketName) => {
        const response = await t.admin.request(IAM_POLICY, { bucketName });
        expectWellFormed(response, { bucketName });
        if (response.errors) {
          expect(response.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", argumentName: "bucketName" });
        } else {
          expect(JSON.parse(response.data.awsIamPolicy.json).Statement.length).toBeGreaterThan(0);
        }
      }),
      runs(60),
    );
  });

  it("discovery without credentials: regions, bucket names and subnet ids", async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(regionLike()), fc.option(bucketLike()), fc.option(awsIdLike("subnet")), async (region, bucket, subnetId) => {
        const input = { region, bucket, subnetId };
        const response = await t.admin.request(DISCOVER, { input });
        expectWellFormed(response, input, { payload: "discoverAwsBackend" });
        expect(response.errors).toBeUndefined();
      }),
      runs(60),
    );
  });

  it("discovery with arbitrary credentials (access key ids, secrets, modes) against moto", async () => {
    await fc.assert(
      fc.asyncProperty(credentialsArb, fc.option(regionLike()), fc.option(bucketLike()), fc.option(awsIdLike("subnet")), async (credentials, region, bucket, subnetId) => {
        const input = { credentials, region, bucket, subnetId };
        const response = await t.admin.request(DISCOVER, { input });
        expectWellFormed(response, input, { payload: "discoverAwsBackend" });
        const secret = (credentials as { secretAccessKey?: string | null }).secretAccessKey;
        if (secret && secret.length >= 12 && /[A-Za-z0-9]{6}/.test(secret)) expect(response.raw).not.toContain(JSON.stringify(secret).slice(1, -1));
      }),
      runs(30),
    );
  });

  it("backend create and update with arbitrary names, regions, buckets, subnets and credentials", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ name: fc.option(slugish()), region: regionLike(), bucket: bucketLike(), subnetId: fc.option(awsIdLike("subnet")), credentials: credentialsArb }),
        async (input) => {
          const created = await t.admin.request(CREATE_BACKEND, { projectId, input });
          expectWellFormed(created, input, { payload: "createAwsBackend" });
          const { credentials, region, bucket, ...changes } = input;
          const updated = await t.admin.request(UPDATE_BACKEND, { id: backendId, input: { ...changes, ...(credentials.mode === "DEFAULT" ? {} : { credentials }) } });
          expectWellFormed(updated, input, { payload: "updateAwsBackend" });
          void region;
          void bucket;
        },
      ),
      runs(30),
    );
  });

  it("secret values and names (setProjectSecret): never echoed, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/), anyString(140)), anyString(70_000), async (name, value) => {
        const response = await t.admin.request(SET_SECRET, { projectId, backendId, input: { name, value } });
        expectWellFormed(response, { name, valueLength: value.length }, { payload: "setProjectSecret" });
        if (value.length >= 12 && /[A-Za-z0-9]{8}/.test(value)) expect(response.raw).not.toContain(value);
      }),
      runs(25),
    );
  });

  it("tokens in the Authorization header (raw bytes, not only what fetch allows): 401 UNAUTHENTICATED, never a 500", async () => {
    const tokenArb = fc.oneof(anyString(200), fc.string({ unit: "binary", maxLength: 9000 }), fc.stringMatching(/^bh_[A-Za-z0-9_-]{0,60}$/));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("Bearer ", "bearer ", "", "Basic ", "Bearer  ", "Bearer\t"), tokenArb, async (scheme, token) => {
        // CR and LF would end the header line; everything else goes out as its UTF-8 bytes.
        const authorization = `${scheme}${token}`.replace(/[\r\n]/g, "");
        const response = await rawPost(t.url, "{ me { name } }", authorization);
        if (!response.json) {
          // Refused by Node's HTTP parser before the application (bad bytes, header too large).
          expect([400, 431], response.head).toContain(response.status);
          return;
        }
        expectWellFormed({ status: response.status, raw: response.body, data: response.json.data, errors: response.json.errors }, { authorization: authorization.slice(0, 100) });
        if (authorization.trim() !== "") {
          expect(response.status).toBe(401);
          expect(response.json.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
        }
      }),
      runs(60),
    );
  });

  it("cursors and page sizes: a page, or BAD_USER_INPUT", async () => {
    const base64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
    const cursorArb = fc.oneof(
      anyString(100),
      anyJson().map(base64url),
      fc.tuple(fc.oneof(fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? "NaN" : d.toISOString())), anyString(30)), fc.oneof(fc.uuid(), anyString(40))).map(base64url),
      fc.constantFrom(base64url(["9999-12-31T23:59:59.999Z", "00000000-0000-0000-0000-000000000000"]), base64url(["+275760-09-13T00:00:00.000Z", "ffffffff-ffff-ffff-ffff-ffffffffffff"]), "=", "===="),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(anyInt()), fc.option(cursorArb), async (first, after) => {
        const page = await t.admin.request(PROJECTS, { first, after });
        expectWellFormed(page, { first, after });
        const backends = await t.admin.request(BACKENDS_PAGE, { id: projectId, first, after });
        expectWellFormed(backends, { first, after });
        for (const response of [page, backends]) {
          for (const error of response.errors ?? []) expect(["BAD_USER_INPUT"]).toContain(error.extensions?.code);
        }
      }),
      runs(60),
    );
  });

  it("ids of every kind: null or NOT_FOUND, never a 500", async () => {
    const idArb = fc.oneof(fc.uuid(), anyString(60), fc.constantFrom("00000000-0000-0000-0000-000000000000", "1", "-1", "0x10"));
    const queries = [
      "query($id: ID!) { backend(id: $id) { id } }",
      "query($id: ID!) { provisioningRun(id: $id) { id } }",
      "query($id: ID!) { instance(id: $id) { id } }",
      "query($id: ID) { project(id: $id) { id } }",
      "mutation($id: ID!) { deleteProject(id: $id) { userErrors { code } } }",
      "mutation($id: ID!) { deleteBackend(id: $id) { userErrors { code } } }",
      "mutation($id: ID!) { provisionBackend(id: $id) { userErrors { code } } }",
      "mutation($id: ID!) { teardownBackend(id: $id) { userErrors { code } } }",
      "mutation($id: ID!) { revokeApiToken(id: $id) { userErrors { code } } }",
      "mutation($id: ID!) { terminateInstance(id: $id) { userErrors { code } } }",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...queries), idArb, async (query, id) => {
        const response = await t.admin.request(query, { id });
        expectWellFormed(response, { query, id });
        const [field] = Object.values(response.data ?? {}) as ({ userErrors?: { code: string }[] } | null)[];
        if (field?.userErrors) expect(field.userErrors.map((error) => error.code)).toEqual(["NOT_FOUND"]);
        else expect(field).toBeNull();
      }),
      runs(60),
    );
  });

  it("users, tokens and members: names, dates, roles and user ids", async () => {
    const dateArb = fc.oneof(anyString(40), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom("2099-02-30T00:00:00Z", "2099-01-01", "2099-01-01T00:00:00+25:00", "0000-01-01T00:00:00Z"));
    await fc.assert(
      fc.asyncProperty(anyString(80), fc.option(dateArb), fc.oneof(fc.uuid(), anyString(40)), fc.oneof(fc.constantFrom("ADMIN", "USER", "VIEWER"), anyString(10)), async (name, expiresAt, userId, role) => {
        expectWellFormed(await t.admin.request(CREATE_USER, { input: { name } }), { name }, { payload: "createUser" });
        expectWellFormed(await t.admin.request(CREATE_TOKEN, { input: { name, expiresAt } }), { name, expiresAt }, { payload: "createApiToken" });
        expectWellFormed(await t.admin.request(SET_MEMBER, { projectId, input: { userId, role } }), { userId, role }, { payload: "setProjectMember" });
      }),
      runs(40),
    );
  });

  it("instance launches: types, disk sizes, ssh keys and names", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          name: fc.option(slugish()),
          instanceType: fc.oneof(fc.constantFrom("t3.micro", "p5.48xlarge", "x.y", ""), anyString(30)),
          market: fc.option(fc.constantFrom("ON_DEMAND", "SPOT")),
          diskGiB: fc.option(anyInt()),
          sshPublicKey: fc.option(fc.oneof(fc.constant("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3x fuzz@host"), anyString(500))),
        }),
        async (input) => {
          const response = await t.admin.request(LAUNCH, { backendId, input });
          expectWellFormed(response, input, { payload: "launchInstance" });
        },
      ),
      runs(25),
    );
  });

  it("variables of the wrong type anywhere: BAD_USER_INPUT, never a 500", async () => {
    const documents = [CREATE_PROJECT, DISCOVER, CREATE_BACKEND, PROJECTS, IAM_POLICY, SET_MEMBER, CREATE_TOKEN];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...documents), fc.dictionary(fc.constantFrom("input", "id", "projectId", "first", "after", "bucketName"), anyJson()), async (query, variables) => {
        expectWellFormed(await t.admin.request(query, variables as Record<string, unknown>), { query, variables });
      }),
      runs(60),
    );
  });

  it("the server is still healthy afterwards", async () => {
    expect((await fetch(new URL("/readyz", t.url))).status).toBe(200);
    expect((await t.admin.ok("{ me { name } }")).me.name).toBe("admin");
  });
});

describe("fuzzing the configuration (CIDRs and every other variable)", () => {
  it("SSH_INGRESS_CIDRS: a valid configuration or a ConfigError naming the variable", () => {
    const octet = fc.integer({ min: -1, max: 300 });
    const cidr = fc.tuple(octet, octet, octet, octet, fc.integer({ min: -1, max: 40 })).map(([a, b, c, d, bits]) => `${a}.${b}.${c}.${d}/${bits}`);
    const list = fc.array(fc.oneof(cidr, anyString(30), fc.constantFrom("0.0.0.0/0", "::/0", "10.0.0.0/8", " 10.0.0.0/8 ", "10.0.0.0", "")), { maxLength: 5 }).map((parts) => parts.join(","));
    fc.assert(
      fc.property(list, (value) => {
        try {
          const config = loadConfig({ SSH_INGRESS_CIDRS: value });
          for (const part of config.SSH_INGRESS_CIDRS.split(",")) expect(part.trim()).toMatch(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).toContain("SSH_INGRESS_CIDRS");
        }
      }),
      runs(300),
    );
  });

  it("any variable, any value: a configuration or a ConfigError, nothing else", () => {
    const names = ["PORT", "HOST", "DATABASE_URL", "LOG_LEVEL", "ENCRYPTION_KEYS", "AWS_DEFAULT_CREDENTIALS", "AWS_ENDPOINT_URL", "INTROSPECTION", "DEBUG_ERRORS", "DATABASE_POOL_SIZE", "PROVISIONING_CONCURRENCY", "RATE_LIMIT_AUTH_FAILURES", "RATE_LIMIT_AWS_MUTATIONS", "STEP_ATTEMPTS", "ADMIN_TOKEN", "TRUST_PROXY"];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.oneof(anyString(40), anyInt().map(String))), (env) => {
        try {
          loadConfig(env);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }),
      runs(300),
    );
  });
});

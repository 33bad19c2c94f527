// The set-up tests share: moto, the fault proxy, our AWS client factory with a session on it, the
// real server, and backends whose IAM user holds the seed's policy.
//
// Each `use…` call registers its own hooks in the file or describe block that calls it, and returns
// a handle named once next to them:
//
//   const moto = useMoto();                             // reset before each test
//   const proxy = useFaultProxy(moto);                  // rules and requests cleared before each test
//   const { factory, session, calls } = useAwsSession(proxy);
//   const t = useServer({ ENCRYPTION_KEYS }, { aws: moto });
//
// The handles stand in for objects that exist only once a hook has run (moto, the proxy, this
// test's factory, the server): reading a property reads it from the current one. So helpers at the
// top of a file can use `moto.endpoint` or `t.admin` as if they were plain variables.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { createAwsClientFactory, type AwsCallRecord, type AwsClientFactory, type AwsClientFactoryOptions } from "../../src/aws/clients.js";
import type { AwsSession } from "../../src/aws/discovery.js";
import { awsIamPolicyDocument } from "../../src/aws/iam-policy.js";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.js";
import type { GraphQLClient } from "./graphql-client.js";
import { createBucket, createIamUser, DUMMY_KEYS, type MotoUser, type StaticKeys } from "./moto-iam.js";
import { startMoto, startPrivateMoto, type MotoServer } from "./moto.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.js";

/** What the current hook has set, under a name that can be taken before it is set. */
function standIn<T extends object>(what: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = current();
      if (!target) throw new Error(`${what} is not there yet: use it in a test or a hook, not while the file is being collected`);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Anything AWS clients can be pointed at: moto itself or the fault proxy in front of it. */
export interface AwsEndpoint {
  readonly endpoint: string;
}

/**
 * The worker's moto_server (one per test process, see moto.ts). `reset: "each"` (the default)
 * wipes it before every test; `"once"` before the first, for files that build one world in
 * beforeAll. Either way it is reset after the file, so enforcement never leaks into the next one.
 */
export function useMoto(options: { reset?: "each" | "once" } = {}): MotoServer {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto();
    if (options.reset === "once") await moto.reset();
  });
  if (options.reset !== "once") beforeEach(() => moto!.reset());
  afterAll(() => moto?.reset());
  return standIn("moto", () => moto);
}

/** A moto_server of this file's own, started with `env()` (e.g. MOTO_AMIS_PATH), stopped after the file. */
export function usePrivateMoto(env: () => Record<string, string>): MotoServer {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startPrivateMoto(env());
  });
  afterAll(() => moto?.stop());
  return standIn("the private moto", () => moto);
}

/**
 * A fault proxy in front of `upstream` for this file. Its rules and recorded requests are cleared
 * before each test, unless `keep` (for files whose later tests read what earlier ones sent).
 */
export function useFaultProxy(upstream: AwsEndpoint, options: { random?: () => number; keep?: boolean } = {}): FaultProxy {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy(upstream.endpoint, { random: options.random });
  });
  if (!options.keep) {
    beforeEach(() => {
      proxy!.clearRules();
      proxy!.clearRequests();
    });
  }
  afterAll(() => proxy?.stop());
  return standIn("the fault proxy", () => proxy);
}

export interface AwsSessionFixture {
  /** This test's client factory: a new one for each test (its clients and default chain start empty), destroyed after it. */
  factory: AwsClientFactory;
  /** The factory with the dummy keys, as the src/aws functions take it. */
  session: AwsSession;
  /** Every AWS call the factory made in this test, as its middleware saw them. */
  calls: AwsCallRecord[];
}

/** Our AWS client factory pointed at `target` (moto or the proxy), fresh for each test. */
export function useAwsSession(target: AwsEndpoint, options: Omit<AwsClientFactoryOptions, "endpoint" | "middleware"> = {}): AwsSessionFixture {
  let factory: AwsClientFactory | undefined;
  const calls: AwsCallRecord[] = [];
  beforeEach(() => {
    calls.length = 0;
    factory = createAwsClientFactory({ ...options, endpoint: target.endpoint, middleware: (call) => void calls.push(call) });
  });
  afterEach(() => {
    factory?.destroy();
    factory = undefined;
  });
  const standInFactory = standIn("the AWS client factory", () => factory);
  return { factory: standInFactory, session: { factory: standInFactory, credentials: { mode: "ACCESS_KEY", ...DUMMY_KEYS } }, calls };
}

/** An SDK client made by `make` for each test (e.g. one that inspects moto directly), destroyed after it. */
export function useAwsClient<T extends { destroy(): void }>(make: () => T): T {
  let client: T | undefined;
  beforeEach(() => {
    client = make();
  });
  afterEach(() => {
    client?.destroy();
    client = undefined;
  });
  return standIn("the AWS client", () => client);
}

/**
 * The real server on a fresh database for this file (or describe block): started before its
 * tests, closed after them. `aws` points its AWS_ENDPOINT_URL at moto or the proxy.
 */
export function useServer(env: Record<string, string> = {}, options: TestServerOptions & { aws?: AwsEndpoint } = {}): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    const { aws, ...serverOptions } = options;
    server = await startTestServer({ ...(aws ? { AWS_ENDPOINT_URL: aws.endpoint } : {}), ...env }, undefined, serverOptions);
  });
  afterAll(() => server?.close());
  return standIn("the test server", () => server);
}

const DEFAULT_CHAIN_VARS = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/**
 * Empties this process's AWS default credential chain (no keys, no profile files, no instance
 * metadata) for each test (`"each"`) or for the file (`"all"`), and puts the environment back after.
 * Returns `setChain`: the only keys the chain can then find.
 */
export function useDefaultCredentialChain(scope: "each" | "all" = "each"): (keys: StaticKeys | null) => void {
  let saved: Record<string, string | undefined> = {};
  const setChain = (keys: StaticKeys | null) => {
    for (const name of DEFAULT_CHAIN_VARS) delete process.env[name];
    process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials";
    process.env.AWS_CONFIG_FILE = "/nonexistent/config";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    if (keys) {
      process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    }
  };
  (scope === "each" ? beforeEach : beforeAll)(() => {
    saved = Object.fromEntries(DEFAULT_CHAIN_VARS.map((name) => [name, process.env[name]]));
    setChain(null);
  });
  (scope === "each" ? afterEach : afterAll)(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return setChain;
}

/** An IAM user `dstack-<bucket>` holding exactly the seed's policy for `bucket`. */
export function createSeedUser(endpoint: string, bucket: string, options: { userName?: string; admin?: StaticKeys } = {}): Promise<MotoUser> {
  return createIamUser(endpoint, { userName: options.userName ?? `dstack-${bucket}`, policy: awsIamPolicyDocument(bucket), admin: options.admin });
}

/**
 * The seed's policy as moto can enforce it: the same actions, with Resource "*" and no conditions.
 * moto matches EC2, Logs, Secrets Manager and non-role IAM calls against the resource "*" only, so
 * the seed's resource-scoped statements would deny calls AWS allows (moto.md §2.2).
 */
export function seedPolicyForMoto(bucket: string): { Version: string; Statement: object[] } {
  const seed = awsIamPolicyDocument(bucket);
  return { ...seed, Statement: seed.Statement.map(({ Condition: _condition, ...statement }) => ({ ...statement, Resource: "*" })) };
}

export interface SeedBackendOptions {
  bucket: string;
  /** Default us-east-1. */
  region?: string;
  /** The IAM user's policy; default: the seed's policy for the bucket. */
  policy?: object;
  userName?: string;
  /** Signs the bucket and user set-up once moto's IAM enforcement is on. */
  adminKeys?: StaticKeys;
  /** More CreateAwsBackendInput fields (subnetId, image, …). */
  input?: Record<string, unknown>;
}

/**
 * A bucket in moto, an IAM user for it (holding the seed's policy unless told otherwise), and a
 * project with an AWS backend on that user's key, created through GraphQL by `admin`.
 */
export async function createSeedBackend(admin: GraphQLClient, endpoint: string, options: SeedBackendOptions): Promise<{ backendId: string; projectId: string; user: MotoUser }> {
  const { bucket, region = "us-east-1" } = options;
  await createBucket(endpoint, bucket, region, options.adminKeys);
  const user = await createIamUser(endpoint, {
    userName: options.userName ?? `dstack-${bucket}`,
    policy: options.policy ?? awsIamPolicyDocument(bucket),
    admin: options.adminKeys,
  });
  const project = await admin.ok(`mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`, {
    input: { name: `p-${bucket}`.slice(0, 50) },
  });
  const projectId = project.createProject.project.id as string;
  const created = await admin.ok(
    `mutation($projectId: ID!, $input: CreateAwsBackendInput!) { createAwsBackend(projectId: $projectId, input: $input) { backend { id status } userErrors { code field message } } }`,
    {
      projectId,
      input: { region, bucket, credentials: { mode: "ACCESS_KEY", accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey }, ...options.input },
    },
  );
  expect(created.createAwsBackend.userErrors).toEqual([]);
  return { backendId: created.createAwsBackend.backend.id as string, projectId, user };
}

// From an empty server to a provisioned AWS backend, with the typed client (client/src/client.ts).
//
//   BACKEND_HUB_URL=http://localhost:4000/graphql BACKEND_HUB_TOKEN=bh_… \
//   AWS_REGION=eu-west-1 BUCKET=my-dstack-bucket \
//   AWS_ACCESS_KEY_ID=AKIA… AWS_SECRET_ACCESS_KEY=… \
//   npm run example:provision
//
// Steps: who am I → project (created, or reused by name) → the IAM policy to attach to the
// backend's IAM user → discovery (every problem, on its field) → the AWS backend (created, or
// reused when the project already has one on this bucket) → provisioning, printing each step as
// it changes (live over graphql-ws, polling if the subscription is unavailable).
// Exit code: 0 when the run SUCCEEDED, 1 when something failed, 2 for a missing setting.
// Without AWS_ACCESS_KEY_ID the backend uses the server's own AWS identity (global admins only).
import { pathToFileURL } from "node:url";
import {
  AwsIamPolicyDocument,
  BackendDocument,
  CreateAwsBackendDocument,
  CreateProjectDocument,
  DiscoverAwsBackendDocument,
  GraphQLRequestError,
  MeDocument,
  ProjectByNameDocument,
  ProvisionBackendDocument,
  ProvisioningRunDocument,
  createClient,
  isRunFinished,
  watchProvisioningRun,
  type AwsCredentialsInput,
  type Client,
  type ProvisioningRunState,
  type UserErrorEntry,
} from "../client/src/client.js";

export interface ExampleEnv {
  BACKEND_HUB_URL?: string;
  BACKEND_HUB_TOKEN?: string;
  AWS_REGION?: string;
  BUCKET?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  /** Project name (slug); default: "example-<bucket>". */
  PROJECT?: string;
  /** Poll instead of subscribing ("1"). */
  POLL?: string;
}

export type Print = (line: string) => void;

class Failure extends Error {}

/** Runs the example; resolves to the process exit code. */
export async function main(env: ExampleEnv = process.env, print: Print = console.log): Promise<number> {
  const missing = (["BACKEND_HUB_URL", "BACKEND_HUB_TOKEN", "BUCKET"] as const).filter((name) => !env[name]);
  if (missing.length) {
    print(`Missing setting(s): ${missing.join(", ")}. See the comment at the top of examples/provision-backend.ts.`);
    return 2;
  }
  const region = env.AWS_REGION || "us-east-1";
  const bucket = env.BUCKET!;
  const projectName = env.PROJECT || `example-${bucket}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 50);
  const credentials: AwsCredentialsInput = env.AWS_ACCESS_KEY_ID
    ? { mode: "ACCESS_KEY", accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" }
    : { mode: "DEFAULT" };

  const client = createClient({ url: env.BACKEND_HUB_URL!, token: env.BACKEND_HUB_TOKEN });
  try {
    // 1. Who am I: checks the URL and the token.
    const { me } = await client.request(MeDocument);
    print(`1. Signed in as ${me.name} (${me.globalRole})`);

    // 2. A project: the team's workspace; the caller becomes its ADMIN.
    const projectId = await ensureProject(client, projectName, print);

    // 3. The IAM policy the backend's IAM user needs (the seed's template, for this bucket).
    const { awsIamPolicy } = await client.request(AwsIamPolicyDocument, { bucketName: bucket });
    print(`3. IAM policy for bucket ${awsIamPolicy.bucketName} (attach it to the IAM user of the access key):`);
    for (const line of awsIamPolicy.json.split("\n")) print(`   ${line}`);

    // 4. Discovery: who the credentials are, what they can see, and every problem on its field.
    const { discoverAwsBackend: discovery } = await client.request(DiscoverAwsBackendDocument, {
      input: { credentials, region, bucket },
    });
    print(`4. Discovery: identity ${discovery.identity?.arn ?? "(none)"}, ${discovery.buckets.length} bucket(s), ${discovery.subnets.length} subnet(s) in ${region}`);
    if (discovery.userErrors.length) {
      print(`   userErrors:`);
      printUserErrors(discovery.userErrors, print);
      throw new Failure("discovery reported problems; fix them and run again");
    }
    print(`   userErrors: none`);

    // 5. The AWS backend (validated again by the server; credentials are sealed at rest).
    const backendId = await ensureBackend(client, projectId, projectName, { region, bucket, credentials }, print);

    // 6. Provisioning: a durable run; watch it until it finishes.
    const { provisionBackend } = await client.request(ProvisionBackendDocument, { id: backendId });
    if (provisionBackend.userErrors.length || !provisionBackend.run) {
      printUserErrors(provisionBackend.userErrors, print);
      throw new Failure("provisionBackend was refused");
    }
    print(`6. Provisioning run ${provisionBackend.run.id} ${provisionBackend.run.status}`);
    const run = await followRun(client, provisionBackend.run.id, env.POLL === "1", print);

    const { backend } = await client.request(BackendDocument, { id: backendId });
    print(`7. Run ${run.id} ${run.status}; backend ${backend?.name} is ${backend?.status}`);
    if (run.status !== "SUCCEEDED") {
      print(`   error: ${run.error ?? "(none)"}`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof Failure) print(`FAILED: ${error.message}`);
    else if (error instanceof GraphQLRequestError) print(`FAILED: GraphQL error ${error.code ?? `(HTTP ${error.status})`}: ${error.message}`);
    else print(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await client.dispose();
  }
}

async function ensureProject(client: Client, name: string, print: Print): Promise<string> {
  const { createProject } = await client.request(CreateProjectDocument, {
    input: { name, description: "Created by examples/provision-backend.ts" },
  });
  if (createProject.project) {
    print(`2. Created project ${createProject.project.name} (${createProject.project.id})`);
    return createProject.project.id;
  }
  if (createProject.userErrors.some((e) => e.code === "NAME_TAKEN")) {
    const { project } = await client.request(ProjectByNameDocument, { name });
    if (project) {
      print(`2. Using existing project ${project.name} (${project.id})`);
      return project.id;
    }
  }
  printUserErrors(createProject.userErrors, print);
  throw new Failure(`could not create project ${name}`);
}

async function ensureBackend(
  client: Client,
  projectId: string,
  projectName: string,
  input: { region: string; bucket: string; credentials: AwsCredentialsInput },
  print: Print,
): Promise<string> {
  const { project } = await client.request(ProjectByNameDocument, { name: projectName });
  const existing = project?.backends.edges.find(({ node }) => node.aws?.bucket === input.bucket && node.aws.region === input.region);
  if (existing) {
    print(`5. Using existing backend ${existing.node.name} (${existing.node.id}), ${existing.node.status}`);
    return existing.node.id;
  }
  const { createAwsBackend } = await client.request(CreateAwsBackendDocument, { projectId, input });
  if (!createAwsBackend.backend) {
    printUserErrors(createAwsBackend.userErrors, print);
    throw new Failure("createAwsBackend reported problems");
  }
  const { backend } = createAwsBackend;
  print(`5. Created backend ${backend.name} (${backend.id}): ${backend.aws?.region}, bucket ${backend.aws?.bucket}, ${backend.status}`);
  return backend.id;
}

/** Prints each step as its status changes; resolves to the finished run. */
async function followRun(client: Client, runId: string, poll: boolean, print: Print): Promise<ProvisioningRunState> {
  const seen = new Map<string, string>();
  let listed = false;
  const show = (run: ProvisioningRunState) => {
    if (!listed) print(`   steps: ${run.steps.map((step) => step.name).join(" → ")}`);
    listed = true;
    for (const step of run.steps) {
      const previous = seen.get(step.name) ?? "PENDING"; // pending steps are listed above
      seen.set(step.name, step.status);
      if (previous === step.status) continue;
      const detail = step.resourceId ?? step.message;
      print(`   ${step.status.padEnd(7)} ${step.name}${detail ? `  ${detail}` : ""}`);
    }
  };
  if (!poll) {
    try {
      let last: ProvisioningRunState | undefined;
      for await (const run of watchProvisioningRun(client, runId)) {
        show(run);
        last = run;
      }
      if (last && isRunFinished(last)) return last;
      print(`   (subscription ended early; polling)`);
    } catch (error) {
      print(`   (subscription unavailable: ${error instanceof Error ? error.message : String(error)}; polling)`);
    }
  }
  for (;;) {
    const { provisioningRun: run } = await client.request(ProvisioningRunDocument, { id: runId });
    if (!run) throw new Failure(`run ${runId} is not visible`);
    show(run);
    if (isRunFinished(run)) return run;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function printUserErrors(userErrors: readonly UserErrorEntry[], print: Print) {
  for (const error of userErrors) print(`   - ${error.code}${error.field ? ` at ${error.field.join(".")}` : ""}: ${error.message}`);
}

// Run as a script (not when imported, e.g. by the test).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

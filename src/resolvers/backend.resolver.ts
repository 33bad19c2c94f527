import { Arg, Ctx, UseMiddleware, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { awsIamPolicy, awsRegions } from "../backends/aws-setup.js";
import type { Viewer } from "../users/viewer.js";
import { LimitAwsCalls } from "../graphql/guards/aws-rate-limit.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { AwsBackendDiscovery, AwsIamPolicy, AwsRegion } from "../graphql/types/aws-discovery.type.js";
import {
  BackendPayload,
  CreateAwsBackendInput,
  DeleteBackendPayload,
  DiscoverAwsBackendInput,
  ResealCredentialsPayload,
  UpdateAwsBackendInput,
} from "../graphql/types/backend.inputs.js";
import { Backend } from "../graphql/types/backend.type.js";
import { Project } from "../graphql/types/project.type.js";
import { ProvisioningRun } from "../graphql/types/run.type.js";
import type { RunView } from "../provisioning/run-view.js";
import type { BackendResult } from "../backends/backend-inputs.js";

const toPayload = ({ backend, userErrors }: BackendResult): BackendPayload => ({ backend: backend && toBackend(backend), userErrors });

@Resolver(() => Backend)
export class BackendResolver {
  @Query(() => Backend, { nullable: true, description: "A backend by id; null when it does not exist or is not visible to the caller." })
  async backend(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<Backend | null> {
    const found = await services.backends.find(viewer, id);
    return found ? toBackend(found.backend) : null;
  }

  @FieldResolver(() => Project, { description: "The project the backend belongs to." })
  async project(@Root() backend: Backend, @Ctx() { loaders }: Context): Promise<Project> {
    return (await loaders.project.load(backend.projectId)) as Project;
  }

  @FieldResolver(() => ProvisioningRun, { nullable: true, description: "The newest provisioning or teardown run; null before the first." })
  lastRun(@Root() backend: Backend, @Ctx() { loaders }: Context): Promise<RunView | null> {
    return loaders.lastRun.load(backend.id);
  }

  @Query(() => [AwsRegion], { description: "AWS regions to choose from." })
  awsRegions(): AwsRegion[] {
    return awsRegions();
  }

  @Query(() => AwsIamPolicy, { description: "The IAM policy template of the AWS backend guide, filled in for a bucket: attach it to the backend's IAM user." })
  awsIamPolicy(@Arg("bucketName", { description: "The S3 bucket the backend will use." }) bucketName: string): AwsIamPolicy {
    return awsIamPolicy(bucketName);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => AwsBackendDiscovery, {
    description: "Checks the AWS backend form as filled in so far: who the credentials are, the regions, buckets and subnets to choose from, and every problem on its field. A mutation because it carries secrets.",
  })
  async discoverAwsBackend(@Arg("input") input: DiscoverAwsBackendInput, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<AwsBackendDiscovery> {
    return services.backends.discover(viewer, input);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => BackendPayload, { description: "Attaches an AWS account to a project after validating it as discovery does. Project ADMIN." })
  async createAwsBackend(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("input") input: CreateAwsBackendInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<BackendPayload> {
    return toPayload(await services.backends.create(viewer, projectId, input));
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => BackendPayload, { description: "Changes an AWS backend; new values are validated again. Absent credentials keep the stored ones. Project ADMIN." })
  async updateAwsBackend(
    @Arg("id", () => ID) id: string,
    @Arg("input") input: UpdateAwsBackendInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<BackendPayload> {
    return toPayload(await services.backends.update(viewer, id, input));
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => DeleteBackendPayload, {
    description:
      "Deletes a backend with the secrets it stored in AWS (its credentials and project secrets). Refused (BACKEND_BUSY) while a run is active, an instance is not TERMINATED, or what provisioning created is still there; teardown: true tears that down first and deletes the backend when the run succeeds. Project ADMIN.",
  })
  deleteBackend(
    @Arg("id", () => ID) id: string,
    @Arg("teardown", () => Boolean, { defaultValue: false, description: "Tear down what provisioning created first (a teardown run), then delete the backend when that run succeeds." })
    teardown: boolean,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<DeleteBackendPayload> {
    return services.removal.delete(viewer, id, { teardown });
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => ResealCredentialsPayload, { description: "Re-seals every stored credential with the newest encryption key (after adding one to ENCRYPTION_KEYS). Global admins only." })
  resealCredentials(@CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ResealCredentialsPayload> {
    return services.backends.resealAll(viewer);
  }
}

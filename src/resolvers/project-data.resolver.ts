import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import type { ArtifactView } from "../compute/artifacts.service.js";
import type { LogEvent as LogEventData } from "../compute/index.js";
import { LimitAwsCalls } from "../graphql/guards/aws-rate-limit.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { LogGroupKind } from "../graphql/enums.js";
import {
  ArtifactConnection,
  DeleteProjectSecretPayload,
  LogEventConnection,
  ProjectSecret,
  ProjectSecretPayload,
  SetProjectSecretInput,
} from "../graphql/types/compute.type.js";
import type { Page } from "../db/pagination.js";

/** What a project keeps around its compute: secrets, logs and artifacts. */
@Resolver()
export class ProjectDataResolver {
  @Query(() => [ProjectSecret], { description: "Names and dates of a project's secrets on a backend; values are write-only. Project VIEWER." })
  projectSecrets(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("backendId", () => ID) backendId: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectSecret[]> {
    return services.projectSecrets.list(viewer, projectId, backendId);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => ProjectSecretPayload, {
    description: "Creates or replaces a secret at /dstack/<bucket>/secrets/<project id>/<name>, readable by the backend's instance role. Project ADMIN.",
  })
  setProjectSecret(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("backendId", () => ID) backendId: string,
    @Arg("input") input: SetProjectSecretInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectSecretPayload> {
    return services.projectSecrets.set(viewer, projectId, backendId, input);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => DeleteProjectSecretPayload, { description: "Deletes a project secret at once (no recovery window). Project ADMIN." })
  deleteProjectSecret(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("backendId", () => ID) backendId: string,
    @Arg("name") name: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<DeleteProjectSecretPayload> {
    return services.projectSecrets.delete(viewer, projectId, backendId, name);
  }

  @Query(() => LogEventConnection, { description: "Log lines of the backend's job or runner log group, oldest first; a group that does not exist yet is an empty page. Project VIEWER." })
  logEvents(
    @Arg("backendId", () => ID) backendId: string,
    @Arg("group", () => LogGroupKind) group: LogGroupKind,
    @Arg("streamPrefix", () => String, { nullable: true, description: "Only streams whose name starts with this." }) streamPrefix: string | null,
    @Arg("since", () => Date, { nullable: true, description: "Not before this time." }) since: Date | null,
    @Arg("until", () => Date, { nullable: true, description: "Not after this time." }) until: Date | null,
    @Arg("first", () => Int, { nullable: true, description: "Page size, 1 to 100 (default 20)." }) first: number | null,
    @Arg("after", () => String, { nullable: true, description: "endCursor of the previous page." }) after: string | null,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<Page<LogEventData>> {
    return services.logs.events(viewer, backendId, { group, streamPrefix, since, until, first, after });
  }

  @Query(() => ArtifactConnection, { description: "Objects under artifacts/<project id>/ in the backend's bucket, each with a short-lived download URL. Project VIEWER." })
  artifacts(
    @Arg("backendId", () => ID) backendId: string,
    @Arg("prefix", () => String, { nullable: true, description: "Only keys starting with this (relative to the project's artifacts)." }) prefix: string | null,
    @Arg("first", () => Int, { nullable: true, description: "Page size, 1 to 100 (default 20)." }) first: number | null,
    @Arg("after", () => String, { nullable: true, description: "endCursor of the previous page." }) after: string | null,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<Page<ArtifactView>> {
    return services.artifacts.list(viewer, backendId, { prefix, first, after });
  }
}

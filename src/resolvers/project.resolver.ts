import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { BackendConnection } from "../graphql/types/backend.type.js";
import { ConnectionArgs } from "../graphql/types/connection.args.js";
import { CreateProjectInput, DeleteProjectPayload, ProjectPayload, SetProjectMemberInput, UpdateProjectInput } from "../graphql/types/project.inputs.js";
import { Project, ProjectConnection, ProjectMember } from "../graphql/types/project.type.js";
import { ProjectRole } from "../generated/prisma/enums.js";
import { pageFromSorted, pageRequest, type Page } from "../db/pagination.js";
import type { Backend } from "../graphql/types/backend.type.js";

@Resolver(() => Project)
export class ProjectResolver {
  @Query(() => ProjectConnection, { description: "Projects the caller is a member of (a global admin sees all), oldest first." })
  projects(@Args() { first, after }: ConnectionArgs, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<Page<Project>> {
    return services.projects.list(viewer, first, after);
  }

  @Query(() => Project, { nullable: true, description: "A project by id or by name; null when it does not exist or is not visible to the caller." })
  async project(
    @Arg("id", () => ID, { nullable: true, description: "The project's id." }) id: string | null,
    @Arg("name", () => String, { nullable: true, description: "The project's name." }) name: string | null,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<Project | null> {
    return (await services.projects.get(viewer, { id, name }))?.project ?? null;
  }

  @FieldResolver(() => ProjectRole, { nullable: true, description: "The caller's role; null for a global admin who is not a member." })
  async myRole(@Root() project: Project, @Ctx() { viewer, loaders }: Context): Promise<ProjectRole | null> {
    const members = await loaders.projectMembers.load(project.id);
    return members.find((member) => member.userId === viewer?.userId)?.role ?? null;
  }

  @FieldResolver(() => [ProjectMember], { description: "Members and their roles." })
  members(@Root() project: Project, @Ctx() { loaders }: Context): Promise<ProjectMember[]> {
    return loaders.projectMembers.load(project.id);
  }

  @FieldResolver(() => BackendConnection, { description: "The project's backends, oldest first." })
  async backends(@Root() project: Project, @Args() { first, after }: ConnectionArgs, @Ctx() { loaders }: Context): Promise<Page<Backend>> {
    const request = pageRequest(first, after);
    const rows = await loaders.projectBackends.load(project.id);
    return pageFromSorted(rows.map(toBackend), request);
  }

  @Mutation(() => ProjectPayload, { description: "Creates a project; the caller becomes its ADMIN." })
  createProject(@Arg("input") input: CreateProjectInput, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ProjectPayload> {
    return services.projects.create(viewer, input);
  }

  @Mutation(() => ProjectPayload, { description: "Renames or re-describes a project. Project ADMIN." })
  updateProject(
    @Arg("id", () => ID) id: string,
    @Arg("input") input: UpdateProjectInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectPayload> {
    return services.projects.update(viewer, id, input);
  }

  @Mutation(() => DeleteProjectPayload, { description: "Deletes a project that has no backends left. Project ADMIN." })
  deleteProject(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<DeleteProjectPayload> {
    return services.projects.delete(viewer, id);
  }

  @Mutation(() => ProjectPayload, { description: "Adds a member or changes their role; the last ADMIN cannot be demoted. Project ADMIN." })
  setProjectMember(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("input") input: SetProjectMemberInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectPayload> {
    return services.projects.setMember(viewer, projectId, input);
  }

  @Mutation(() => ProjectPayload, { description: "Removes a member (ADMIN), or lets a member leave; the last ADMIN cannot go." })
  removeProjectMember(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("userId", () => ID) userId: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectPayload> {
    return services.projects.removeMember(viewer, projectId, userId);
  }
}

import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { Backend } from "../graphql/types/backend.type.js";
import { Instance } from "../graphql/types/compute.type.js";
import { ProjectPayload } from "../graphql/types/project.inputs.js";
import { Project } from "../graphql/types/project.type.js";
import { BackendSpend, ProjectLimits, ProjectSpend, SetProjectLimitsInput } from "../graphql/types/spend.type.js";
import { expiresAt } from "../reconciliation/index.js";
import type { InstanceView } from "../compute/instance-view.js";

@Resolver(() => Project)
export class ProjectSpendResolver {
  @FieldResolver(() => ProjectLimits, { description: "The project's limits (setProjectLimits)." })
  async limits(@Root() project: Project, @Ctx() { loaders }: Context): Promise<ProjectLimits> {
    const row = await loaders.project.load(project.id);
    return { maxHourlySpend: row?.maxHourlySpend ?? null, maxLiveInstances: row?.maxLiveInstances ?? null, defaultMaxDurationMinutes: row?.defaultMaxDurationMinutes ?? null };
  }

  @FieldResolver(() => ProjectSpend, { description: "Estimated instance spend (an estimate from instance lifetimes and prices, not a bill)." })
  async spend(
    @Root() project: Project,
    @Arg("since", () => Date, { nullable: true, description: "Start of the window; default: the start of the current month, UTC." }) since: Date | null,
    @Ctx() { services }: Context,
  ): Promise<ProjectSpend> {
    return { currency: "USD", ...(await services.spend.spend(project.id, since)) };
  }

  @Mutation(() => ProjectPayload, { description: "Sets the project's limits; null clears a limit, an absent field keeps it. Project ADMIN." })
  setProjectLimits(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("input") input: SetProjectLimitsInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<ProjectPayload> {
    return services.spend.setLimits(viewer, projectId, input);
  }
}

@Resolver(() => BackendSpend)
export class BackendSpendResolver {
  @FieldResolver(() => Backend, { description: "The backend." })
  async backend(@Root() spend: BackendSpend, @Ctx() { loaders }: Context): Promise<Backend> {
    return toBackend((await loaders.backend.load(spend.backendId))!);
  }
}

@Resolver(() => Instance)
export class InstanceTimeLimitResolver {
  @FieldResolver(() => Date, { nullable: true, description: "When maxDurationMinutes is reached (creation + maxDurationMinutes); null without a limit." })
  expiresAt(@Root() instance: InstanceView): Date | null {
    return expiresAt(instance);
  }
}

import { Arg, Ctx, UseMiddleware, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import { LimitAwsCalls } from "../graphql/guards/aws-rate-limit.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer, stillVisible, subscriptionViewer } from "../graphql/current-viewer.js";
import { liveUpdates } from "../graphql/live-updates.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { Backend } from "../graphql/types/backend.type.js";
import { ProvisioningRun, ProvisioningRunPayload } from "../graphql/types/run.type.js";
import { runProgress, runViewFromJson, type RunView } from "../provisioning/run-view.js";

@Resolver(() => ProvisioningRun)
export class RunResolver {
  @Query(() => ProvisioningRun, { nullable: true, description: "A run by id; null when it does not exist or is not visible to the caller." })
  provisioningRun(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<RunView | null> {
    return services.runs.find(viewer, id);
  }

  @FieldResolver(() => Backend, { description: "The backend the run works on." })
  async backend(@Root() run: ProvisioningRun, @Ctx() { loaders }: Context): Promise<Backend> {
    return toBackend((await loaders.backend.load(run.backendId))!);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => ProvisioningRunPayload, {
    description: "Prepares the backend's AWS account (IAM policy, role, instance profile, security group, log groups, bucket lifecycle) as a durable run; returns the active run if one is going, and resumes a failed one from its failed step. Project ADMIN.",
  })
  provisionBackend(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ProvisioningRunPayload> {
    return services.runs.request(viewer, id, "PROVISION");
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => ProvisioningRunPayload, { description: "Removes what provisioning created, in reverse order, and nothing else. Project ADMIN." })
  teardownBackend(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ProvisioningRunPayload> {
    return services.runs.request(viewer, id, "TEARDOWN");
  }

  @Subscription(() => ProvisioningRun, {
    description: "The run now, then every change to it (each step transition), until it finishes. Over graphql-ws on /graphql.",
    subscribe: ({ args, context }) => runUpdates(context as Context, String(args.id)),
  })
  provisioningRunUpdated(@Arg("id", () => ID) _id: string, @Root() run: RunView): RunView {
    return run;
  }
}

const isFinished = (run: RunView) => run.status === "SUCCEEDED" || run.status === "FAILED";

function runUpdates(context: Context, runId: string): AsyncIterable<RunView> {
  const viewer = subscriptionViewer(context);
  const find = () => context.services.runs.find(viewer, runId);
  return liveUpdates({
    events: context.events,
    topic: "RUN_UPDATED",
    id: runId,
    current: find,
    stillAllowed: () => stillVisible(context, viewer, find),
    fromJson: runViewFromJson,
    isFinal: isFinished,
    progress: runProgress,
  });
}

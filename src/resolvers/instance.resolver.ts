import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, UseMiddleware } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import { instanceViewFromJson, isFinalInstance, type InstanceView } from "../compute/instance-view.js";
import type { PricedOffer } from "../compute/index.js";
import { LimitAwsCalls } from "../graphql/guards/aws-rate-limit.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer, stillVisible, subscriptionViewer } from "../graphql/current-viewer.js";
import { liveUpdates } from "../graphql/live-updates.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { Backend } from "../graphql/types/backend.type.js";
import { Instance, InstanceConnection, InstanceOffer, InstanceOfferFilter, InstancePayload, LaunchInstanceInput } from "../graphql/types/compute.type.js";
import { ConnectionArgs } from "../graphql/types/connection.args.js";
import type { Page } from "../db/pagination.js";

@Resolver(() => Instance)
export class InstanceResolver {
  @Query(() => [InstanceOffer], { description: "Instance types of the backend's region with vCPUs, memory, GPUs and prices, sorted by price then size. Project VIEWER." })
  instanceOffers(
    @Arg("backendId", () => ID) backendId: string,
    @Arg("filter", () => InstanceOfferFilter, { nullable: true }) filter: InstanceOfferFilter | null,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<PricedOffer[]> {
    return services.offers.list(viewer, backendId, filter ?? {});
  }

  @Query(() => Instance, { nullable: true, description: "An instance by id; null when it does not exist or is not visible." })
  instance(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<InstanceView | null> {
    return services.instances.find(viewer, id);
  }

  @FieldResolver(() => Backend, { description: "The backend it runs on." })
  async backend(@Root() instance: Instance, @Ctx() { loaders }: Context): Promise<Backend> {
    return toBackend((await loaders.backend.load(instance.backendId))!);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => InstancePayload, {
    description: "Launches an instance with the backend's instance profile, security group and subnet; the launch is idempotent (EC2 ClientToken). Backend must be READY. Project USER.",
  })
  launchInstance(
    @Arg("backendId", () => ID) backendId: string,
    @Arg("input") input: LaunchInstanceInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<InstancePayload> {
    return services.instances.launch(viewer, backendId, input);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => InstancePayload, { description: "Cancels the spot request (if any), then terminates the instance; already gone is success. Project USER." })
  terminateInstance(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<InstancePayload> {
    return services.instances.terminate(viewer, id);
  }

  @Subscription(() => Instance, {
    description: "The instance now, then every change to its status, until it is TERMINATED or FAILED. Over graphql-ws on /graphql.",
    subscribe: ({ args, context }) => {
      const viewer = subscriptionViewer(context as Context);
      const { services, events } = context as Context;
      const id = String(args.id);
      const find = () => services.instances.find(viewer, id);
      return liveUpdates({
        events,
        topic: "INSTANCE_UPDATED",
        id,
        current: find,
        stillAllowed: () => stillVisible(context as Context, viewer, find),
        fromJson: instanceViewFromJson,
        isFinal: isFinalInstance,
      });
    },
  })
  instanceUpdated(@Arg("id", () => ID) _id: string, @Root() instance: InstanceView): InstanceView {
    return instance;
  }
}

@Resolver(() => Backend)
export class BackendInstancesResolver {
  @FieldResolver(() => InstanceConnection, { description: "The backend's instances, oldest first." })
  instances(@Root() backend: Backend, @Args() { first, after }: ConnectionArgs, @Ctx() { services }: Context): Promise<Page<InstanceView>> {
    return services.instances.listForBackend(backend.id, first, after);
  }
}


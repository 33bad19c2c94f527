import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription, UseMiddleware } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import type { Backend as BackendRow } from "../generated/prisma/client.js";
import { LimitAwsCalls } from "../graphql/guards/aws-rate-limit.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer, stillVisible, subscriptionViewer } from "../graphql/current-viewer.js";
import { liveUpdates } from "../graphql/live-updates.js";
import { toBackend } from "../graphql/mappers/backend.mapper.js";
import { Backend } from "../graphql/types/backend.type.js";
import { ConnectionArgs } from "../graphql/types/connection.args.js";
import { ReconcileBackendPayload, ReconciliationFindingConnection } from "../graphql/types/reconciliation.type.js";
import { backendEvent, backendFromEvent, type FindingView } from "../reconciliation/index.js";
import type { Page } from "../db/pagination.js";

@Resolver(() => Backend)
export class BackendReconciliationResolver {
  @FieldResolver(() => ReconciliationFindingConnection, { description: "What the reconciler found and did, newest first." })
  reconciliationFindings(@Root() backend: Backend, @Args() { first, after }: ConnectionArgs, @Ctx() { services }: Context): Promise<Page<FindingView>> {
    return services.reconciliation.findings(backend.id, first, after);
  }

  @UseMiddleware(LimitAwsCalls)
  @Mutation(() => ReconcileBackendPayload, {
    description: "Runs a reconciliation pass over the backend now (orphans, gone instances, time limits, drift, credentials) and returns the backend after it. Project ADMIN.",
  })
  async reconcileBackend(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ReconcileBackendPayload> {
    const { backend, userErrors } = await services.reconciliation.reconcileNow(viewer, id);
    return { backend: backend && toBackend(backend), userErrors };
  }

  @Subscription(() => Backend, {
    description: "The backend now, then every change a reconciliation pass makes to its status or findings. Over graphql-ws on /graphql.",
    subscribe: ({ args, context }) => {
      const viewer = subscriptionViewer(context as Context);
      const { services, events } = context as Context;
      const id = String(args.id);
      const find = async () => {
        const found = await services.backends.find(viewer, id);
        return found ? backendEvent(found.backend) : null;
      };
      return liveUpdates({
        events,
        topic: "BACKEND_UPDATED",
        id,
        current: find,
        stillAllowed: () => stillVisible(context as Context, viewer, find),
        fromJson: backendFromEvent,
        isFinal: () => false,
      });
    },
  })
  backendUpdated(@Arg("id", () => ID) _id: string, @Root() row: BackendRow): Backend {
    return toBackend(row);
  }
}

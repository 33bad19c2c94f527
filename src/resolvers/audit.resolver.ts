import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import type { Page } from "../db/pagination.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { AuditChainReport, AuditEvent, AuditEventConnection, AuditEventFilter } from "../graphql/types/audit.type.js";
import { ConnectionArgs } from "../graphql/types/connection.args.js";
import { Project } from "../graphql/types/project.type.js";
import { User } from "../graphql/types/user.type.js";
import type { Viewer } from "../users/viewer.js";

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description: "The audit log, newest first. With projectId: that project's events, for its ADMINs. Without: every event (those with no project too), for global admins.",
  })
  auditEvents(
    @Arg("projectId", () => ID, { nullable: true }) projectId: string | null,
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Args() { first, after }: ConnectionArgs,
    @CurrentViewer() viewer: Viewer,
    @Ctx() { services }: Context,
  ): Promise<Page<AuditEvent>> {
    return services.auditEvents.list(viewer, projectId, filter ?? {}, first, after);
  }

  @Query(() => AuditChainReport, { description: "Checks the audit log's hash chain and names the first broken link. Global admins only. (Beyond the contract.)" })
  async verifyAuditChain(@CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<AuditChainReport> {
    const report = await services.auditEvents.verify(viewer);
    return {
      intact: report.intact,
      checkedEvents: report.checkedEvents,
      startPosition: report.start.seq.toString(),
      headPosition: report.head.seq.toString(),
      headHash: report.head.hash,
      firstBroken: report.broken ? { eventId: report.broken.eventId, position: report.broken.seq.toString(), problem: report.broken.problem } : null,
    };
  }

  @FieldResolver(() => User, { nullable: true, description: "Who did it; null for events of the service itself and for unauthenticated callers." })
  async actor(@Root() event: AuditEvent, @Ctx() { loaders }: Context): Promise<User | null> {
    return event.actorId ? loaders.user.load(event.actorId) : null;
  }

  @FieldResolver(() => Project, { nullable: true, description: "The project it concerned; null when none (or it has been deleted since)." })
  async project(@Root() event: AuditEvent, @Ctx() { loaders }: Context): Promise<Project | null> {
    return event.projectId ? loaders.project.load(event.projectId) : null;
  }
}

// Every root Mutation field, over HTTP and over WebSocket alike (graphql-ws runs mutations with
// the same schema), goes through the audit log: an intent row before it runs, its outcome after
// (src/audit/mutation-audit.ts). A mutation sent without a token is not given a row of its own:
// it is counted with the refused authentications of its address (one row per window), so a flood
// of anonymous requests cannot fill the table.
import type { MiddlewareFn } from "type-graphql";
import { ErrorCode } from "../../errors/codes.js";
import type { Context } from "../context.js";

export const AuditMutations: MiddlewareFn<Context> = async ({ context, info, args }, next) => {
  if (info.parentType.name !== "Mutation") return next();
  const { viewer, services } = context;
  if (!viewer) {
    services.audit.recordAuthFailure(context.clientAddress, ErrorCode.UNAUTHENTICATED);
    return next(); // RequireAuthentication refuses it
  }
  return services.audit.mutation(
    {
      operation: info.fieldName,
      actor: { userId: viewer.userId, tokenPrefix: viewer.tokenPrefix },
      clientAddress: context.clientAddress,
      requestId: context.requestId,
      args,
    },
    () => next(),
  );
};

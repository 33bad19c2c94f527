// Root fields need an authenticated caller. The global middleware enforces it for every root
// field (so none can forget); @CurrentViewer hands the caller to the resolver.
import type { GraphQLResolveInfo } from "graphql";
import { createParameterDecorator, type MiddlewareFn } from "type-graphql";
import type { Viewer } from "../auth/viewer.js";
import { UnauthenticatedError } from "../errors/errors.js";
import type { Context } from "./context.js";

const ROOT_TYPES = new Set(["Query", "Mutation", "Subscription"]);

export const isRootField = (info: GraphQLResolveInfo): boolean => ROOT_TYPES.has(info.parentType.name);

export const RequireAuthentication: MiddlewareFn<Context> = async ({ context, info }, next) => {
  if (isRootField(info) && !context.viewer) throw new UnauthenticatedError();
  return next();
};

export function CurrentViewer() {
  return createParameterDecorator<Context>(({ context }): Viewer => {
    if (!context.viewer) throw new UnauthenticatedError();
    return context.viewer;
  });
}

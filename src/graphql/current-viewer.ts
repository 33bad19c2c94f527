// Root fields need an authenticated caller. The global middleware enforces it for every root
// field (so none can forget); @CurrentViewer hands the caller to the resolver.
import type { GraphQLResolveInfo } from "graphql";
import { createParameterDecorator, type MiddlewareFn } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
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

/** Subscriptions' own `subscribe` functions are not wrapped by the middleware: they call this. */
export function subscriptionViewer(context: Context): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}

/** The caller's token is still valid and the object still visible to them. */
export async function stillVisible(context: Context, viewer: Viewer, find: () => Promise<unknown>): Promise<boolean> {
  return (await context.services.tokens.isActive(viewer.tokenId)) && (await find()) !== null;
}

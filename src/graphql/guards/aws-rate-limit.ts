// Mutations that call AWS cost AWS API quota (and can be used to probe keys): each counts
// against the caller's token and address.
import type { MiddlewareFn } from "type-graphql";
import type { Context } from "../context.js";

export const LimitAwsCalls: MiddlewareFn<Context> = async ({ context }, next) => {
  if (context.viewer) await context.rateLimits.consumeAwsMutation(context.viewer.tokenId, context.clientAddress);
  return next();
};

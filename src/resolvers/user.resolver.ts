import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { Viewer } from "../users/viewer.js";
import type { Context } from "../graphql/context.js";
import { CurrentViewer } from "../graphql/current-viewer.js";
import { ApiToken, User } from "../graphql/types/user.type.js";
import {
  CreateApiTokenInput,
  CreateApiTokenPayload,
  CreateUserInput,
  CreateUserPayload,
  RevokeApiTokenPayload,
} from "../graphql/types/user.inputs.js";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The caller." })
  async me(@CurrentViewer() viewer: Viewer, @Ctx() { loaders }: Context): Promise<User> {
    return (await loaders.user.load(viewer.userId)) as User;
  }

  @Query(() => [ApiToken], { description: "The caller's API tokens, newest first (metadata only)." })
  myApiTokens(@CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<ApiToken[]> {
    return services.tokens.listForUser(viewer.userId);
  }

  @Mutation(() => CreateUserPayload, { description: "Creates a user and their first API token. Global admins only." })
  createUser(@Arg("input") input: CreateUserInput, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<CreateUserPayload> {
    return services.users.createUser(viewer, input);
  }

  @Mutation(() => CreateApiTokenPayload, { description: "Creates an API token for the caller; the token is shown once." })
  createApiToken(@Arg("input") input: CreateApiTokenInput, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<CreateApiTokenPayload> {
    return services.tokens.create(viewer, input);
  }

  @Mutation(() => RevokeApiTokenPayload, { description: "Revokes one of the caller's tokens (a global admin: anyone's). Idempotent." })
  revokeApiToken(@Arg("id", () => ID) id: string, @CurrentViewer() viewer: Viewer, @Ctx() { services }: Context): Promise<RevokeApiTokenPayload> {
    return services.tokens.revoke(viewer, id);
  }
}

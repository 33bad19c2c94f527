import { Field, InputType, ObjectType } from "type-graphql";
import { GlobalRole } from "../../generated/prisma/enums.js";
import { ApiToken, User } from "./user.type.js";
import { UserError } from "./user-error.type.js";

@InputType({ description: "A new user." })
export class CreateUserInput {
  @Field({ description: "Unique name, 1 to 64 characters (Unicode code points), stored in NFC; no invisible or bidirectional control characters (Unicode Cf, Cc)." })
  name: string;

  @Field(() => GlobalRole, { nullable: true, description: "Defaults to USER." })
  globalRole?: GlobalRole | null;
}

@InputType({ description: "A new API token for the caller." })
export class CreateApiTokenInput {
  @Field({ description: "What the token is for, up to 100 characters." })
  name: string;

  @Field(() => Date, { nullable: true, description: "When the token stops working; must be in the future. Null: never." })
  expiresAt?: Date | null;
}

@ObjectType({ description: "Result of createUser." })
export class CreateUserPayload {
  @Field(() => User, { nullable: true, description: "The new user; null when userErrors is not empty." })
  user?: User;

  @Field(() => String, { nullable: true, description: "The new user's first API token. Shown this once: store it now." })
  token?: string;

  @Field(() => [UserError], { description: "Problems with the input; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of createApiToken." })
export class CreateApiTokenPayload {
  @Field(() => ApiToken, { nullable: true, description: "The token's metadata." })
  apiToken?: ApiToken;

  @Field(() => String, { nullable: true, description: "The token itself. Shown this once: store it now." })
  token?: string;

  @Field(() => [UserError], { description: "Problems with the input; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of revokeApiToken." })
export class RevokeApiTokenPayload {
  @Field(() => ApiToken, { nullable: true, description: "The revoked token." })
  apiToken?: ApiToken;

  @Field(() => [UserError], { description: "Problems; NOT_FOUND for a token that is not yours." })
  userErrors: UserError[];
}

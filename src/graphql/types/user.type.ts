import { Field, ID, ObjectType } from "type-graphql";
import { GlobalRole } from "../../generated/prisma/enums.js";
import "../enums.js";

@ObjectType({ description: "A person or program that calls the API with API tokens." })
export class User {
  @Field(() => ID, { description: "Opaque id." })
  id: string;

  @Field({ description: "Unique name." })
  name: string;

  @Field(() => GlobalRole, { description: "Role across the whole service." })
  globalRole: GlobalRole;

  @Field({ description: "When the user was created." })
  createdAt: Date;
}

@ObjectType({ description: "An API token's metadata; the token itself is shown only once, when created." })
export class ApiToken {
  @Field(() => ID, { description: "Opaque id; pass it to `revokeApiToken`." })
  id: string;

  @Field({ description: "What the token is for." })
  name: string;

  @Field({ description: "The token's first characters, to recognise it." })
  prefix: string;

  @Field({ description: "When the token was created." })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When the token last authenticated a request (to the minute)." })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the token stops working; null: never." })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the token was revoked; null: active." })
  revokedAt: Date | null;
}

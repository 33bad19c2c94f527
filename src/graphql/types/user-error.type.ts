import { Field, ObjectType } from "type-graphql";
import { UserErrorCode } from "../../errors/codes.js";
import "../enums.js";

@ObjectType({ description: "A problem with a mutation's input that the user can fix." })
export class UserError {
  @Field(() => UserErrorCode, { description: "Stable code for programs to branch on." })
  code: UserErrorCode;

  @Field({ description: "Human-readable explanation; never contains a secret." })
  message: string;

  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "credentials", "secretAccessKey"].' })
  field?: string[];
}

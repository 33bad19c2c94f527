import { Field, ID, InputType, ObjectType } from "type-graphql";
import { ProjectRole } from "../../generated/prisma/enums.js";
import { Project } from "./project.type.js";
import { UserError } from "./user-error.type.js";

@InputType({ description: "A new project; the caller becomes its ADMIN." })
export class CreateProjectInput {
  @Field({ description: "Unique slug: lower-case letters, digits and '-', 3 to 50 characters (Unicode code points)." })
  name: string;

  @Field(() => String, { nullable: true, description: "Free text, up to 1000 characters." })
  description?: string | null;
}

@InputType({ description: "Changes to a project; absent fields stay as they are." })
export class UpdateProjectInput {
  @Field(() => String, { nullable: true, description: "New unique slug." })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "New description; null clears it." })
  description?: string | null;
}

@InputType({ description: "Adds a member or changes their role." })
export class SetProjectMemberInput {
  @Field(() => ID, { description: "The user." })
  userId: string;

  @Field(() => ProjectRole, { description: "Their role in the project." })
  role: ProjectRole;
}

@ObjectType({ description: "Result of a mutation that changes a project." })
export class ProjectPayload {
  @Field(() => Project, { nullable: true, description: "The project after the change; null when userErrors is not empty." })
  project?: Project;

  @Field(() => [UserError], { description: "Problems with the input; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of deleteProject." })
export class DeleteProjectPayload {
  @Field(() => ID, { nullable: true, description: "Id of the deleted project." })
  deletedProjectId?: string;

  @Field(() => [UserError], { description: "Problems; BACKEND_BUSY while the project still has backends." })
  userErrors: UserError[];
}

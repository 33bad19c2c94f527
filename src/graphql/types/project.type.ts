import { Field, ID, ObjectType } from "type-graphql";
import { ProjectRole } from "../../generated/prisma/enums.js";
import { ConnectionTypes } from "./connection.type.js";
import { User } from "./user.type.js";
import "../enums.js";

@ObjectType({ description: "A team's workspace: members with roles, and the backends they run compute on." })
export class Project {
  @Field(() => ID, { description: "Opaque id." })
  id: string;

  @Field({ description: "Unique slug: lower-case letters, digits and '-', 3 to 50 characters." })
  name: string;

  @Field(() => String, { nullable: true, description: "Free text." })
  description: string | null;

  @Field({ description: "When the project was created." })
  createdAt: Date;

  @Field({ description: "When the project or its membership last changed." })
  updatedAt: Date;
}

@ObjectType({ description: "A user's membership in a project." })
export class ProjectMember {
  @Field(() => User, { description: "The member." })
  user: User;

  @Field(() => ProjectRole, { description: "Their role in the project." })
  role: ProjectRole;
}

export const { Edge: ProjectEdge, Connection: ProjectConnection } = ConnectionTypes(Project, "Project");

import type { NonEmptyArray } from "type-graphql";
import { ProjectResolver } from "./project.resolver.js";
import { UserResolver } from "./user.resolver.js";

export const resolvers: NonEmptyArray<Function> = [UserResolver, ProjectResolver];

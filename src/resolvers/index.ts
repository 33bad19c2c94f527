import type { NonEmptyArray } from "type-graphql";
import { BackendResolver } from "./backend.resolver.js";
import { ProjectResolver } from "./project.resolver.js";
import { RunResolver } from "./run.resolver.js";
import { UserResolver } from "./user.resolver.js";

export const resolvers: NonEmptyArray<Function> = [UserResolver, ProjectResolver, BackendResolver, RunResolver];

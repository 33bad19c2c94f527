import type { NonEmptyArray } from "type-graphql";
import { AuditResolver } from "./audit.resolver.js";
import { BackendResolver } from "./backend.resolver.js";
import { BackendInstancesResolver, InstanceResolver } from "./instance.resolver.js";
import { ProjectDataResolver } from "./project-data.resolver.js";
import { ProjectResolver } from "./project.resolver.js";
import { RunResolver } from "./run.resolver.js";
import { UserResolver } from "./user.resolver.js";
import { BackendSpendResolver, InstanceTimeLimitResolver, ProjectSpendResolver } from "./spend.resolver.js";
import { BackendReconciliationResolver } from "./reconciliation.resolver.js";

export const resolvers: NonEmptyArray<Function> = [UserResolver, ProjectResolver, BackendResolver, RunResolver, InstanceResolver, BackendInstancesResolver, ProjectDataResolver,
  ProjectSpendResolver, BackendSpendResolver, InstanceTimeLimitResolver, BackendReconciliationResolver, AuditResolver];

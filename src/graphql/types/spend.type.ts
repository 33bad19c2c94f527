import { Field, Float, InputType, Int, ObjectType } from "type-graphql";
import { Backend } from "./backend.type.js";

@ObjectType({ description: "A project's limits; null: no limit. Checked at every launch, serialised per project." })
export class ProjectLimits {
  @Field(() => Float, { nullable: true, description: "Most USD per hour the project's live instances may cost together (their prices summed, the new launch included)." })
  maxHourlySpend: number | null;

  @Field(() => Int, { nullable: true, description: "Most live instances (PENDING, RUNNING or TERMINATING) the project may have, the new launch included." })
  maxLiveInstances: number | null;

  @Field(() => Int, { nullable: true, description: "maxDurationMinutes of a launch that gives none." })
  defaultMaxDurationMinutes: number | null;
}

@InputType({ description: "New limits of a project. null clears a limit; an absent field keeps it." })
export class SetProjectLimitsInput {
  @Field(() => Float, { nullable: true, description: "USD per hour, 0 to 1000000." })
  maxHourlySpend?: number | null;

  @Field(() => Int, { nullable: true, description: "0 to 100000." })
  maxLiveInstances?: number | null;

  @Field(() => Int, { nullable: true, description: "1 to 525600 (a year)." })
  defaultMaxDurationMinutes?: number | null;
}

@ObjectType({ description: "One backend's share of a project's spend estimate." })
export class BackendSpend {
  /** Not a GraphQL field: resolves `backend`. */
  backendId: string;

  @Field(() => Backend, { description: "The backend." })
  backend?: Backend;

  @Field(() => Float, { description: "Estimated USD per hour of its live instances (their prices summed)." })
  hourlyRunRate: number;

  @Field(() => Float, { description: "Estimated USD since `since`: each instance's running time in the window times its price per hour." })
  estimatedCost: number;
}

@ObjectType({
  description:
    "An estimate of a project's EC2 instance spend from instance lifetimes and prices, not a bill: it leaves out disks (EBS), data transfer, public IPv4 addresses, taxes, discounts and credits.",
})
export class ProjectSpend {
  @Field({ description: 'Currency of every figure: "USD".' })
  currency: string;

  @Field({ description: "Start of the window (default: the start of the current month, UTC)." })
  since: Date;

  @Field(() => Float, { description: "Estimated USD per hour of the live instances (their prices summed)." })
  hourlyRunRate: number;

  @Field(() => Float, { description: "Estimated USD since `since`: each instance's running time in the window times its price per hour." })
  estimatedCost: number;

  @Field({ description: "False when an instance counted has no known price (its share is missing from the figures)." })
  complete: boolean;

  @Field(() => [BackendSpend], { description: "The same per backend of the project, oldest backend first." })
  byBackend: BackendSpend[];
}

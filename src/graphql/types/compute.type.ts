import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { InstanceMarket, InstanceStatus } from "../../generated/prisma/enums.js";
import { ConnectionTypes } from "./connection.type.js";
import { UserError } from "./user-error.type.js";
import "../enums.js";

@ObjectType({ description: "A GPU model in an instance type." })
export class Gpu {
  @Field({ description: "GPU model, e.g. A100." })
  name: string;

  @Field(() => Int, { description: "Memory per GPU, MiB." })
  memoryMiB: number;

  @Field(() => Int, { description: "How many." })
  count: number;
}

@ObjectType({ description: "An instance type offered in the backend's region, with its prices." })
export class InstanceOffer {
  @Field({ description: "EC2 instance type, e.g. g5.xlarge." })
  instanceType: string;

  @Field(() => Int, { description: "Virtual CPUs." })
  vcpus: number;

  @Field(() => Int, { description: "Memory, MiB." })
  memoryMiB: number;

  @Field(() => [Gpu], { description: "GPUs; empty for none." })
  gpus: Gpu[];

  @Field(() => Float, { nullable: true, description: "On-demand USD per hour from the AWS Price List; null when the credentials lack pricing:GetProducts (never an estimate)." })
  onDemandPricePerHour: number | null;

  @Field(() => Float, { nullable: true, description: "Lowest current spot USD per hour across the region's zones (cached a few minutes)." })
  spotPricePerHour: number | null;

  @Field({ description: "Whether the type can be bought as spot here." })
  spotAvailable: boolean;
}

@InputType({ description: "Which offers to list; all conditions must hold." })
export class InstanceOfferFilter {
  @Field(() => Int, { nullable: true, description: "At least this many vCPUs." })
  minVcpus?: number | null;

  @Field(() => Int, { nullable: true, description: "At least this much memory, MiB." })
  minMemoryMiB?: number | null;

  @Field(() => String, { nullable: true, description: "GPU model name, case-insensitive (e.g. A10G)." })
  gpuName?: string | null;

  @Field(() => Int, { nullable: true, description: "At least this many GPUs." })
  minGpuCount?: number | null;

  @Field(() => Boolean, { nullable: true, description: "true: only types with spot; results are then sorted by spot price." })
  spot?: boolean | null;
}

@ObjectType({ description: "A machine launched in the backend's account." })
export class Instance {
  @Field(() => ID, { description: "Opaque id; also the source of the EC2 ClientToken." })
  id: string;

  /** Not a GraphQL field: resolves `backend`. */
  backendId: string;

  @Field({ description: "Name (the EC2 Name tag)." })
  name: string;

  @Field({ description: "EC2 instance type." })
  instanceType: string;

  @Field(() => InstanceMarket, { description: "On-demand or spot." })
  market: InstanceMarket;

  @Field({ description: "Region it runs in." })
  region: string;

  @Field(() => InstanceStatus, { description: "State as last seen in EC2 (refreshed in the background)." })
  status: InstanceStatus;

  @Field(() => String, { nullable: true, description: "Why it is in this state (AWS's reason for NO_CAPACITY, FAILED, interruptions)." })
  statusReason: string | null;

  @Field(() => String, { nullable: true, description: "EC2 instance id, once EC2 reports one." })
  awsInstanceId: string | null;

  @Field(() => String, { nullable: true, description: "Spot request id, for spot instances." })
  spotRequestId: string | null;

  @Field(() => Float, { nullable: true, description: "USD per hour when known: the spot price of its type in the region (kept current) or the on-demand list price; null with the reason in statusReason." })
  pricePerHour: number | null;

  @Field(() => Int, { nullable: true, description: "The reconciler terminates the instance when it has run this long (minutes)." })
  maxDurationMinutes: number | null;

  @Field({ description: "When it was requested." })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When it was seen terminated." })
  terminatedAt: Date | null;
}

export const { Edge: InstanceEdge, Connection: InstanceConnection } = ConnectionTypes(Instance, "Instance");

@InputType({ description: "A machine to launch." })
export class LaunchInstanceInput {
  @Field(() => String, { nullable: true, description: "Name (slug); default: <type>-<id>." })
  name?: string | null;

  @Field({ description: "EC2 instance type, e.g. t3.micro (see instanceOffers)." })
  instanceType: string;

  @Field(() => InstanceMarket, { nullable: true, description: "ON_DEMAND (default) or SPOT (one-time, terminated on interruption)." })
  market?: InstanceMarket | null;

  @Field(() => Int, { nullable: true, description: "Root volume size, 8 to 16384 GiB (default 100)." })
  diskGiB?: number | null;

  @Field(() => String, { nullable: true, description: "An OpenSSH public key installed for the image's default user." })
  sshPublicKey?: string | null;

  @Field(() => Int, { nullable: true, description: "Terminate the instance after this many minutes, 1 to 525600; absent: the project's defaultMaxDurationMinutes." })
  maxDurationMinutes?: number | null;
}

@ObjectType({ description: "Result of launchInstance or terminateInstance." })
export class InstancePayload {
  @Field(() => Instance, { nullable: true, description: "The instance. On NO_CAPACITY it is returned with that status alongside the userError." })
  instance?: Instance;

  @Field(() => [UserError], { description: "Problems; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "A project secret's metadata; the value is write-only." })
export class ProjectSecret {
  @Field({ description: "Secret name." })
  name: string;

  @Field({ description: "When the value was last set." })
  updatedAt: Date;
}

@InputType({ description: "A secret for a project's instances." })
export class SetProjectSecretInput {
  @Field({ description: "Name: letters, digits and _ . - (up to 128 characters)." })
  name: string;

  @Field({ description: "The value (write-only, up to 64 KiB)." })
  value: string;
}

@ObjectType({ description: "Result of setProjectSecret." })
export class ProjectSecretPayload {
  @Field(() => ProjectSecret, { nullable: true, description: "The secret's metadata." })
  secret?: ProjectSecret;

  @Field(() => [UserError], { description: "Problems; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of deleteProjectSecret." })
export class DeleteProjectSecretPayload {
  @Field(() => String, { nullable: true, description: "Name of the deleted secret." })
  deletedName?: string;

  @Field(() => [UserError], { description: "Problems; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "One log line." })
export class LogEvent {
  @Field({ description: "When it was logged." })
  timestamp: Date;

  @Field({ description: "Log stream." })
  stream: string;

  @Field({ description: "The line." })
  message: string;
}

export const { Edge: LogEventEdge, Connection: LogEventConnection } = ConnectionTypes(LogEvent, "LogEvent");

@ObjectType({ description: "An object under the project's artifacts prefix." })
export class Artifact {
  @Field({ description: "Key relative to artifacts/<project id>/." })
  key: string;

  @Field(() => Float, { description: "Size in bytes." })
  size: number;

  @Field({ description: "Last modified." })
  lastModified: Date;

  @Field({ description: "Presigned GET URL for this object only, valid for 5 minutes." })
  downloadUrl: string;
}

export const { Edge: ArtifactEdge, Connection: ArtifactConnection } = ConnectionTypes(Artifact, "Artifact");

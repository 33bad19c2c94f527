import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { AwsCredentialsMode } from "../../generated/prisma/enums.js";
import type { RunView } from "../../provisioning/run-view.js";
import { Backend } from "./backend.type.js";
import { ProvisioningRun } from "./run.type.js";
import { UserError } from "./user-error.type.js";

@InputType({ description: "How to authenticate with AWS." })
export class AwsCredentialsInput {
  @Field(() => AwsCredentialsMode, { description: "DEFAULT (the server's identity; global admins) or ACCESS_KEY." })
  mode: AwsCredentialsMode;

  @Field(() => String, { nullable: true, description: "Access key id (ACCESS_KEY mode)." })
  accessKeyId?: string | null;

  @Field(() => String, { nullable: true, description: "Secret access key (ACCESS_KEY mode). Write-only: never returned or logged." })
  secretAccessKey?: string | null;
}

@InputType({ description: "The machine image instances launch from: an AMI id, or a name pattern with a pinned owner (never a name alone)." })
export class AwsImageInput {
  @Field(() => String, { nullable: true, description: "An AMI id, e.g. ami-0abc…." })
  amiId?: string | null;

  @Field(() => String, { nullable: true, description: "Image name pattern (wildcards *), e.g. ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*." })
  namePattern?: string | null;

  @Field(() => String, { nullable: true, description: 'Owner account id (or "amazon", "aws-marketplace", "self") required with namePattern.' })
  owner?: string | null;
}

@InputType({ description: "The AWS backend form as filled in so far; every field is optional." })
export class DiscoverAwsBackendInput {
  @Field(() => AwsCredentialsInput, { nullable: true, description: "Credentials to check and discover with." })
  credentials?: AwsCredentialsInput | null;

  @Field(() => String, { nullable: true, description: "Chosen region." })
  region?: string | null;

  @Field(() => String, { nullable: true, description: "Chosen bucket." })
  bucket?: string | null;

  @Field(() => String, { nullable: true, description: "Chosen subnet." })
  subnetId?: string | null;
}

@InputType({ description: "A new AWS backend; validated exactly as discovery does." })
export class CreateAwsBackendInput {
  @Field(() => AwsImageInput, { nullable: true, description: "Machine image; absent: the newest Ubuntu 22.04 LTS owned by Canonical (or, on update, unchanged)." })
  image?: AwsImageInput | null;

  @Field(() => String, { nullable: true, description: "Name unique within the project (slug); defaults to aws-<region>." })
  name?: string | null;

  @Field({ description: "Region for compute and state." })
  region: string;

  @Field({ description: "S3 bucket in that region." })
  bucket: string;

  @Field(() => String, { nullable: true, description: "Subnet for instances; absent: the region's default VPC." })
  subnetId?: string | null;

  @Field(() => AwsCredentialsInput, { description: "How to authenticate." })
  credentials: AwsCredentialsInput;
}

@InputType({ description: "Changes to an AWS backend; absent fields (and absent credentials) stay as they are." })
export class UpdateAwsBackendInput {
  @Field(() => AwsImageInput, { nullable: true, description: "Machine image; absent: the newest Ubuntu 22.04 LTS owned by Canonical (or, on update, unchanged)." })
  image?: AwsImageInput | null;

  @Field(() => String, { nullable: true, description: "New name." })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "New region (only before provisioning)." })
  region?: string | null;

  @Field(() => String, { nullable: true, description: "New bucket (only before provisioning)." })
  bucket?: string | null;

  @Field(() => String, { nullable: true, description: "New subnet; an empty string returns to the default VPC." })
  subnetId?: string | null;

  @Field(() => AwsCredentialsInput, { nullable: true, description: "New credentials; absent: keep the stored ones." })
  credentials?: AwsCredentialsInput | null;
}

@ObjectType({ description: "Result of a mutation that changes a backend." })
export class BackendPayload {
  @Field(() => Backend, { nullable: true, description: "The backend after the change; null when userErrors is not empty." })
  backend?: Backend;

  @Field(() => [UserError], { description: "Problems, each on the field it concerns; empty on success." })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of deleteBackend." })
export class DeleteBackendPayload {
  @Field(() => ID, { nullable: true, description: "Id of the deleted backend; null while a teardown run (teardown: true) goes first." })
  deletedBackendId?: string;

  @Field(() => ProvisioningRun, {
    nullable: true,
    description: "With teardown: true, the teardown run that goes first; the backend is deleted when it succeeds (and kept, usable, when it fails).",
  })
  run?: RunView;

  @Field(() => [UserError], {
    description: "Problems; BACKEND_BUSY while a run is active, an instance is not TERMINATED, or provisioned AWS resources are still there (named, with what removes them).",
  })
  userErrors: UserError[];
}

@ObjectType({ description: "Result of resealCredentials." })
export class ResealCredentialsPayload {
  @Field(() => Int, { description: "How many stored credentials were re-sealed with the newest key." })
  resealed: number;

  @Field(() => Int, { description: "How many were already sealed with the newest key." })
  unchanged: number;

  @Field(() => [UserError], { description: "Backends whose credentials could not be re-sealed: the stored envelope cannot be opened, or the new sealed copy could not be written to Secrets Manager." })
  userErrors: UserError[];
}

import { Field, ObjectType } from "type-graphql";
import { GraphQLJSON } from "graphql-scalars";
import { UserError } from "./user-error.type.js";

@ObjectType({ description: "An AWS region." })
export class AwsRegion {
  @Field({ description: "Region code, e.g. eu-west-1." })
  code: string;

  @Field({ description: "Human name, e.g. Europe (Ireland)." })
  name: string;
}

@ObjectType({ description: "Who the credentials belong to (STS GetCallerIdentity)." })
export class AwsIdentity {
  @Field({ description: "12-digit AWS account id." })
  accountId: string;

  @Field({ description: "ARN of the IAM user or role." })
  arn: string;
}

@ObjectType({ description: "An S3 bucket the credentials can list." })
export class AwsBucket {
  @Field({ description: "Bucket name." })
  name: string;

  @Field(() => String, {
    nullable: true,
    description: "The bucket's real region (GetBucketLocation); null when it could not be read, with the reason in userErrors.",
  })
  region: string | null;

  @Field(() => Date, { nullable: true, description: "When the bucket was created." })
  createdAt: Date | null;
}

@ObjectType({ description: "A subnet of the chosen region." })
export class AwsSubnet {
  @Field({ description: "Subnet id, e.g. subnet-0abc…." })
  id: string;

  @Field({ description: "VPC it belongs to." })
  vpcId: string;

  @Field({ description: "Availability zone." })
  availabilityZone: string;

  @Field({ description: "IPv4 CIDR block." })
  cidrBlock: string;

  @Field(() => String, { nullable: true, description: "The Name tag." })
  name: string | null;

  @Field({ description: "Whether it is its zone's default subnet." })
  isDefaultForAz: boolean;

  @Field({ description: "Whether instances get a public IP by default." })
  mapsPublicIp: boolean;

  @Field(() => Boolean, {
    nullable: true,
    description: "Has a route to an internet gateway; null when route tables cannot be read (ec2:DescribeRouteTables is not in the seed's policy).",
  })
  public: boolean | null;
}

@ObjectType({ description: "What discovery found for the input so far, and every problem with it." })
export class AwsBackendDiscovery {
  @Field({ description: "Whether the server's own AWS identity can be used by the caller (global admins, when not disabled)." })
  defaultCredentialsAvailable: boolean;

  @Field(() => AwsIdentity, { nullable: true, description: "Who the credentials belong to; null when they are missing or invalid." })
  identity: AwsIdentity | null;

  @Field(() => [AwsRegion], { description: "Regions to choose from." })
  regions: AwsRegion[];

  @Field(() => [AwsBucket], { description: "Buckets the credentials can list, with their real regions." })
  buckets: AwsBucket[];

  @Field(() => [AwsSubnet], { description: "Subnets of the chosen region." })
  subnets: AwsSubnet[];

  @Field(() => [UserError], { description: "One entry per problem, each on the input field it concerns." })
  userErrors: UserError[];
}

@ObjectType({ description: "The IAM policy an AWS backend's user needs, filled in for one bucket." })
export class AwsIamPolicy {
  @Field({ description: "The bucket it was filled in for." })
  bucketName: string;

  @Field(() => GraphQLJSON, { description: "The policy document." })
  document: object;

  @Field({ description: "The policy document as indented JSON text, ready to paste into the IAM console." })
  json: string;
}

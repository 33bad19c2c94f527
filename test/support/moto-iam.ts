// Test fixtures created in moto through the real AWS SDK: IAM users with a given policy (for
// tests that turn IAM enforcement on), buckets in chosen regions, VPCs and subnets.
// Setup calls sign with `admin` credentials: the dummy test/test key while enforcement is off, or
// a moto-issued admin key (see createAdminUser) when setup has to continue after it is on.
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  AssociateRouteTableCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Any key works while enforcement is off; it maps to moto's default account 123456789012. */
export const DUMMY_KEYS: StaticKeys = { accessKeyId: "test", secretAccessKey: "test" };

export interface MotoUser extends StaticKeys {
  userName: string;
  arn: string;
}

function base(endpoint: string, region: string, credentials: StaticKeys) {
  // maxAttempts 1: moto answers unimplemented paths with HTML 500s; retrying only hides them.
  return { endpoint, region, credentials, maxAttempts: 1 };
}

export function iamClient(endpoint: string, credentials: StaticKeys = DUMMY_KEYS) {
  return new IAMClient(base(endpoint, "us-east-1", credentials));
}
export function s3Client(endpoint: string, region = "us-east-1", credentials: StaticKeys = DUMMY_KEYS) {
  return new S3Client({ ...base(endpoint, region, credentials), forcePathStyle: true });
}
export function ec2Client(endpoint: string, region: string, credentials: StaticKeys = DUMMY_KEYS) {
  return new EC2Client(base(endpoint, region, credentials));
}
export function secretsClient(endpoint: string, region: string, credentials: StaticKeys = DUMMY_KEYS) {
  return new SecretsManagerClient(base(endpoint, region, credentials));
}
export function logsClient(endpoint: string, region: string, credentials: StaticKeys = DUMMY_KEYS) {
  return new CloudWatchLogsClient(base(endpoint, region, credentials));
}

/**
 * Creates an IAM user with `policy` (a policy document object or JSON) and returns its access key.
 * `managed: true` attaches it as a customer-managed policy instead of an inline one.
 */
export async function createIamUser(
  endpoint: string,
  options: { userName: string; policy: object | string; managed?: boolean; admin?: StaticKeys },
): Promise<MotoUser> {
  const iam = iamClient(endpoint, options.admin);
  const document = typeof options.policy === "string" ? options.policy : JSON.stringify(options.policy);
  const user = await iam.send(new CreateUserCommand({ UserName: options.userName }));
  if (options.managed) {
    const created = await iam.send(new CreatePolicyCommand({ PolicyName: `${options.userName}-policy`, PolicyDocument: document }));
    await iam.send(new AttachUserPolicyCommand({ UserName: options.userName, PolicyArn: created.Policy!.Arn! }));
  } else {
    await iam.send(new PutUserPolicyCommand({ UserName: options.userName, PolicyName: "policy", PolicyDocument: document }));
  }
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: options.userName }))).AccessKey!;
  iam.destroy();
  return {
    userName: options.userName,
    arn: user.User!.Arn!,
    accessKeyId: key.AccessKeyId!,
    secretAccessKey: key.SecretAccessKey!,
  };
}

/** A policy document from statements, e.g. policy([{ Effect: "Allow", Action: ["s3:*"], Resource: "*" }]). */
export function policy(statements: object[]): object {
  return { Version: "2012-10-17", Statement: statements };
}

/** A user allowed everything: setup code keeps working with it after enforcement is turned on. */
export function createAdminUser(endpoint: string, userName = "admin"): Promise<MotoUser> {
  return createIamUser(endpoint, { userName, policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) });
}

/** Creates `bucket` in `region` (LocationConstraint is set for every region but us-east-1). */
export async function createBucket(endpoint: string, bucket: string, region: string, admin: StaticKeys = DUMMY_KEYS) {
  const s3 = s3Client(endpoint, region, admin);
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  s3.destroy();
}

export interface CreatedSubnet {
  vpcId: string;
  subnetId: string;
}

/**
 * A new VPC with one subnet. `public: true` adds an internet gateway and an explicitly associated
 * route table with 0.0.0.0/0 → igw (moto's default VPC has no gateway, so its subnets look private).
 */
export async function createSubnet(
  endpoint: string,
  region: string,
  options: { cidr?: string; name?: string; public?: boolean; admin?: StaticKeys } = {},
): Promise<CreatedSubnet> {
  const ec2 = ec2Client(endpoint, region, options.admin);
  const cidr = options.cidr ?? "10.20.0.0/16";
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr.replace(/\/\d+$/, "/24") }))).Subnet!.SubnetId!;
  if (options.name) await ec2.send(new CreateTagsCommand({ Resources: [subnetId], Tags: [{ Key: "Name", Value: options.name }] }));
  if (options.public) {
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetId }));
  }
  ec2.destroy();
  return { vpcId, subnetId };
}

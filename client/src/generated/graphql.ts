/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** How to authenticate with AWS. */
export type AwsCredentialsInput = {
  /** Access key id (ACCESS_KEY mode). */
  accessKeyId?: string | null | undefined;
  /** DEFAULT (the server's identity; global admins) or ACCESS_KEY. */
  mode: AwsCredentialsMode;
  /** Secret access key (ACCESS_KEY mode). Write-only: never returned or logged. */
  secretAccessKey?: string | null | undefined;
};

/** How the service authenticates with AWS for a backend. */
export type AwsCredentialsMode =
  /** An IAM user's access key id and secret access key, sealed by the service. */
  | 'ACCESS_KEY'
  /** The server's own AWS identity (environment, shared profile or instance role); global admins only. */
  | 'DEFAULT';

/** The machine image instances launch from: an AMI id, or a name pattern with a pinned owner (never a name alone). */
export type AwsImageInput = {
  /** An AMI id, e.g. ami-0abc…. */
  amiId?: string | null | undefined;
  /** Image name pattern (wildcards *), e.g. ubuntu/images/hvm-ssd*\/ubuntu-jammy-22.04-amd64-server-*. */
  namePattern?: string | null | undefined;
  /** Owner account id (or "amazon", "aws-marketplace", "self") required with namePattern. */
  owner?: string | null | undefined;
};

/** Where a backend is in its life cycle. */
export type BackendStatus =
  /** Validated and saved; not yet provisioned. */
  | 'CONFIGURED'
  /** The last run failed; see `lastRun` for the step and the reason, then retry. */
  | 'FAILED'
  /** A provisioning run is preparing the AWS account. */
  | 'PROVISIONING'
  /** Provisioned: instances can be launched. */
  | 'READY'
  /** A teardown run is removing what provisioning created. */
  | 'TEARING_DOWN';

/** The cloud a backend runs compute in. */
export type BackendType =
  /** An AWS account, reached with default credentials or an access key. */
  | 'AWS';

/** A new API token for the caller. */
export type CreateApiTokenInput = {
  /** When the token stops working; must be in the future. Null: never. */
  expiresAt?: string | null | undefined;
  /** What the token is for, up to 100 characters. */
  name: string;
};

/** A new AWS backend; validated exactly as discovery does. */
export type CreateAwsBackendInput = {
  /** S3 bucket in that region. */
  bucket: string;
  /** How to authenticate. */
  credentials: AwsCredentialsInput;
  /** Machine image; absent: the newest Ubuntu 22.04 LTS owned by Canonical (or, on update, unchanged). */
  image?: AwsImageInput | null | undefined;
  /** Name unique within the project (slug); defaults to aws-<region>. */
  name?: string | null | undefined;
  /** Region for compute and state. */
  region: string;
  /** Subnet for instances; absent: the region's default VPC. */
  subnetId?: string | null | undefined;
};

/** A new project; the caller becomes its ADMIN. */
export type CreateProjectInput = {
  /** Free text, up to 1000 characters. */
  description?: string | null | undefined;
  /** Unique slug: lower-case letters, digits and '-', 3 to 50 characters (Unicode code points). */
  name: string;
};

/** The AWS backend form as filled in so far; every field is optional. */
export type DiscoverAwsBackendInput = {
  /** Chosen bucket. */
  bucket?: string | null | undefined;
  /** Credentials to check and discover with. */
  credentials?: AwsCredentialsInput | null | undefined;
  /** Chosen region. */
  region?: string | null | undefined;
  /** Chosen subnet. */
  subnetId?: string | null | undefined;
};

/** A user's role across the whole service. */
export type GlobalRole =
  /** Creates users, sees every project, may attach the server's own AWS credentials. */
  | 'ADMIN'
  /** Works within the projects they are a member of. */
  | 'USER';

/** How an instance is bought. */
export type InstanceMarket =
  /** On-demand capacity at the list price. */
  | 'ON_DEMAND'
  /** One-time spot request; terminated on interruption. */
  | 'SPOT';

/** Which offers to list; all conditions must hold. */
export type InstanceOfferFilter = {
  /** GPU model name, case-insensitive (e.g. A10G). */
  gpuName?: string | null | undefined;
  /** At least this many GPUs. */
  minGpuCount?: number | null | undefined;
  /** At least this much memory, MiB. */
  minMemoryMiB?: number | null | undefined;
  /** At least this many vCPUs. */
  minVcpus?: number | null | undefined;
  /** true: only types with spot; results are then sorted by spot price. */
  spot?: boolean | null | undefined;
};

/** An instance's state, as last seen in EC2. */
export type InstanceStatus =
  /** The launch failed for another reason. */
  | 'FAILED'
  /** AWS had no capacity for the request; `statusReason` quotes AWS. */
  | 'NO_CAPACITY'
  /** Requested; not yet running. */
  | 'PENDING'
  /** Running. */
  | 'RUNNING'
  /** Gone. */
  | 'TERMINATED'
  /** Shutting down. */
  | 'TERMINATING';

/** A machine to launch. */
export type LaunchInstanceInput = {
  /** Root volume size, 8 to 16384 GiB (default 100). */
  diskGiB?: number | null | undefined;
  /** EC2 instance type, e.g. t3.micro (see instanceOffers). */
  instanceType: string;
  /** ON_DEMAND (default) or SPOT (one-time, terminated on interruption). */
  market?: InstanceMarket | null | undefined;
  /** Name (slug); default: <type>-<id>. */
  name?: string | null | undefined;
  /** An OpenSSH public key installed for the image's default user. */
  sshPublicKey?: string | null | undefined;
};

/** A member's role in one project. */
export type ProjectRole =
  /** Manages members, backends and secrets, and provisions. */
  | 'ADMIN'
  /** Runs compute: launches and terminates instances. */
  | 'USER'
  /** Reads the project, its backends, instances, logs and artifacts. */
  | 'VIEWER';

/** What a provisioning run does. */
export type RunKind =
  /** Creates or reconciles the backend's AWS resources. */
  | 'PROVISION'
  /** Removes the AWS resources that provisioning created. */
  | 'TEARDOWN';

/** The state of a provisioning run. */
export type RunStatus =
  /** A step failed; `error` says why. Retrying continues from the failed step. */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'QUEUED'
  /** A worker is executing its steps. */
  | 'RUNNING'
  /** Every step finished. */
  | 'SUCCEEDED';

/** Adds a member or changes their role. */
export type SetProjectMemberInput = {
  /** Their role in the project. */
  role: ProjectRole;
  /** The user. */
  userId: string;
};

/** The state of one step of a run. */
export type StepStatus =
  /** Finished; `resourceId` names what it created or found. */
  | 'DONE'
  /** Failed; `message` names the AWS action or parameter at fault. */
  | 'FAILED'
  /** Not started. */
  | 'PENDING'
  /** In progress. */
  | 'RUNNING'
  /** Nothing to do. */
  | 'SKIPPED';

/** What kind of problem a `UserError` reports; stable, for programs to branch on. */
export type UserErrorCode =
  /** An IAM permission is missing; the message names the action to grant. */
  | 'AWS_ACCESS_DENIED'
  /** AWS rejected the access key id or secret access key. */
  | 'AWS_CREDENTIALS_INVALID'
  /** The server's default credentials are disabled, or not yours to use. */
  | 'AWS_DEFAULT_CREDENTIALS_DISABLED'
  /** AWS kept failing (throttling, 5xx, timeouts) after retries; try again later. */
  | 'AWS_UNAVAILABLE'
  /** The backend has an active run or live instances; wait, or finish them first. */
  | 'BACKEND_BUSY'
  /** The bucket exists but these credentials may not use it. */
  | 'BUCKET_ACCESS_DENIED'
  /** The bucket lives in another region than the backend's; the message names it. */
  | 'BUCKET_IN_OTHER_REGION'
  /** No bucket of that name exists. */
  | 'BUCKET_NOT_FOUND'
  /** The instance type does not exist or is not offered in the region. */
  | 'INSTANCE_TYPE_UNAVAILABLE'
  /** A value breaks a rule; the message says which. */
  | 'INVALID_INPUT'
  /** The change would leave the project without an ADMIN. */
  | 'LAST_ADMIN'
  /** The name is already used; pick another. */
  | 'NAME_TAKEN'
  /** No such object, or not visible to you. */
  | 'NOT_FOUND'
  /** AWS has no capacity for the request right now. */
  | 'NO_CAPACITY'
  /** Not an AWS region code. */
  | 'REGION_INVALID'
  /** No subnet with that id is visible to these credentials. */
  | 'SUBNET_NOT_FOUND'
  /** The subnet exists in another region than the backend's. */
  | 'SUBNET_NOT_IN_REGION';

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, name: string, globalRole: GlobalRole, createdAt: string } };

export type CreateApiTokenMutationVariables = Exact<{
  input: CreateApiTokenInput;
}>;


export type CreateApiTokenMutation = { createApiToken: { token: string | null, apiToken: { id: string, name: string, prefix: string, createdAt: string, expiresAt: string | null } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type AwsIamPolicyQueryVariables = Exact<{
  bucketName: string;
}>;


export type AwsIamPolicyQuery = { awsIamPolicy: { bucketName: string, document: unknown, json: string } };

export type AwsRegionsQueryVariables = Exact<{ [key: string]: never; }>;


export type AwsRegionsQuery = { awsRegions: Array<{ code: string, name: string }> };

export type DiscoverAwsBackendMutationVariables = Exact<{
  input: DiscoverAwsBackendInput;
}>;


export type DiscoverAwsBackendMutation = { discoverAwsBackend: { defaultCredentialsAvailable: boolean, identity: { accountId: string, arn: string } | null, regions: Array<{ code: string, name: string }>, buckets: Array<{ name: string, region: string | null, createdAt: string | null }>, subnets: Array<{ id: string, vpcId: string, availabilityZone: string, cidrBlock: string, name: string | null, isDefaultForAz: boolean, mapsPublicIp: boolean, public: boolean | null }>, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type CreateAwsBackendMutationVariables = Exact<{
  projectId: string;
  input: CreateAwsBackendInput;
}>;


export type CreateAwsBackendMutation = { createAwsBackend: { backend: { id: string, name: string, type: BackendType, status: BackendStatus, createdAt: string, updatedAt: string, aws: { region: string, bucket: string, subnetId: string | null, credentialsMode: AwsCredentialsMode, accessKeyIdHint: string | null, accountId: string | null, credentialsSecretName: string | null, image: string | null } | null } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type BackendQueryVariables = Exact<{
  id: string;
}>;


export type BackendQuery = { backend: { id: string, name: string, type: BackendType, status: BackendStatus, createdAt: string, updatedAt: string, project: { id: string, name: string }, lastRun: { id: string, kind: RunKind, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, steps: Array<{ name: string, status: StepStatus, resourceId: string | null, attempts: number, message: string | null, startedAt: string | null, finishedAt: string | null }> } | null, aws: { region: string, bucket: string, subnetId: string | null, credentialsMode: AwsCredentialsMode, accessKeyIdHint: string | null, accountId: string | null, credentialsSecretName: string | null, image: string | null } | null } | null };

export type InstanceOffersQueryVariables = Exact<{
  backendId: string;
  filter?: InstanceOfferFilter | null | undefined;
}>;


export type InstanceOffersQuery = { instanceOffers: Array<{ instanceType: string, vcpus: number, memoryMiB: number, onDemandPricePerHour: number | null, spotPricePerHour: number | null, spotAvailable: boolean, gpus: Array<{ name: string, memoryMiB: number, count: number }> }> };

export type InstanceFieldsFragment = { id: string, name: string, instanceType: string, market: InstanceMarket, region: string, status: InstanceStatus, statusReason: string | null, awsInstanceId: string | null, spotRequestId: string | null, pricePerHour: number | null, createdAt: string, terminatedAt: string | null };

export type LaunchInstanceMutationVariables = Exact<{
  backendId: string;
  input: LaunchInstanceInput;
}>;


export type LaunchInstanceMutation = { launchInstance: { instance: { id: string, name: string, instanceType: string, market: InstanceMarket, region: string, status: InstanceStatus, statusReason: string | null, awsInstanceId: string | null, spotRequestId: string | null, pricePerHour: number | null, createdAt: string, terminatedAt: string | null } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type InstanceQueryVariables = Exact<{
  id: string;
}>;


export type InstanceQuery = { instance: { id: string, name: string, instanceType: string, market: InstanceMarket, region: string, status: InstanceStatus, statusReason: string | null, awsInstanceId: string | null, spotRequestId: string | null, pricePerHour: number | null, createdAt: string, terminatedAt: string | null, backend: { id: string, name: string } } | null };

export type TerminateInstanceMutationVariables = Exact<{
  id: string;
}>;


export type TerminateInstanceMutation = { terminateInstance: { instance: { id: string, name: string, instanceType: string, market: InstanceMarket, region: string, status: InstanceStatus, statusReason: string | null, awsInstanceId: string | null, spotRequestId: string | null, pricePerHour: number | null, createdAt: string, terminatedAt: string | null } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type InstanceUpdatedSubscriptionVariables = Exact<{
  id: string;
}>;


export type InstanceUpdatedSubscription = { instanceUpdated: { id: string, name: string, instanceType: string, market: InstanceMarket, region: string, status: InstanceStatus, statusReason: string | null, awsInstanceId: string | null, spotRequestId: string | null, pricePerHour: number | null, createdAt: string, terminatedAt: string | null } };

export type UserErrorFieldsFragment = { code: UserErrorCode, field: Array<string> | null, message: string };

export type ProjectFieldsFragment = { id: string, name: string, description: string | null, myRole: ProjectRole | null, createdAt: string, updatedAt: string };

export type BackendFieldsFragment = { id: string, name: string, type: BackendType, status: BackendStatus, createdAt: string, updatedAt: string, aws: { region: string, bucket: string, subnetId: string | null, credentialsMode: AwsCredentialsMode, accessKeyIdHint: string | null, accountId: string | null, credentialsSecretName: string | null, image: string | null } | null };

export type ProvisioningRunFieldsFragment = { id: string, kind: RunKind, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, steps: Array<{ name: string, status: StepStatus, resourceId: string | null, attempts: number, message: string | null, startedAt: string | null, finishedAt: string | null }> };

export type ProjectsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ProjectsQuery = { projects: { edges: Array<{ cursor: string, node: { id: string, name: string, description: string | null, myRole: ProjectRole | null, createdAt: string, updatedAt: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CreateProjectMutationVariables = Exact<{
  input: CreateProjectInput;
}>;


export type CreateProjectMutation = { createProject: { project: { id: string, name: string, description: string | null, myRole: ProjectRole | null, createdAt: string, updatedAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type ProjectByNameQueryVariables = Exact<{
  name: string;
}>;


export type ProjectByNameQuery = { project: { id: string, name: string, description: string | null, myRole: ProjectRole | null, createdAt: string, updatedAt: string, members: Array<{ role: ProjectRole, user: { id: string, name: string } }>, backends: { edges: Array<{ node: { id: string, name: string, status: BackendStatus, aws: { region: string, bucket: string } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } | null };

export type SetProjectMemberMutationVariables = Exact<{
  projectId: string;
  input: SetProjectMemberInput;
}>;


export type SetProjectMemberMutation = { setProjectMember: { project: { id: string, members: Array<{ role: ProjectRole, user: { id: string, name: string } }> } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type ProvisionBackendMutationVariables = Exact<{
  id: string;
}>;


export type ProvisionBackendMutation = { provisionBackend: { run: { id: string, kind: RunKind, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, steps: Array<{ name: string, status: StepStatus, resourceId: string | null, attempts: number, message: string | null, startedAt: string | null, finishedAt: string | null }> } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string> | null, message: string }> } };

export type ProvisioningRunQueryVariables = Exact<{
  id: string;
}>;


export type ProvisioningRunQuery = { provisioningRun: { id: string, kind: RunKind, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, backend: { id: string, status: BackendStatus }, steps: Array<{ name: string, status: StepStatus, resourceId: string | null, attempts: number, message: string | null, startedAt: string | null, finishedAt: string | null }> } | null };

export type ProvisioningRunUpdatedSubscriptionVariables = Exact<{
  id: string;
}>;


export type ProvisioningRunUpdatedSubscription = { provisioningRunUpdated: { id: string, kind: RunKind, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, backend: { id: string, status: BackendStatus }, steps: Array<{ name: string, status: StepStatus, resourceId: string | null, attempts: number, message: string | null, startedAt: string | null, finishedAt: string | null }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const InstanceFieldsFragmentDoc = new TypedDocumentString(`
    fragment InstanceFields on Instance {
  id
  name
  instanceType
  market
  region
  status
  statusReason
  awsInstanceId
  spotRequestId
  pricePerHour
  createdAt
  terminatedAt
}
    `, {"fragmentName":"InstanceFields"}) as unknown as TypedDocumentString<InstanceFieldsFragment, unknown>;
export const UserErrorFieldsFragmentDoc = new TypedDocumentString(`
    fragment UserErrorFields on UserError {
  code
  field
  message
}
    `, {"fragmentName":"UserErrorFields"}) as unknown as TypedDocumentString<UserErrorFieldsFragment, unknown>;
export const ProjectFieldsFragmentDoc = new TypedDocumentString(`
    fragment ProjectFields on Project {
  id
  name
  description
  myRole
  createdAt
  updatedAt
}
    `, {"fragmentName":"ProjectFields"}) as unknown as TypedDocumentString<ProjectFieldsFragment, unknown>;
export const BackendFieldsFragmentDoc = new TypedDocumentString(`
    fragment BackendFields on Backend {
  id
  name
  type
  status
  createdAt
  updatedAt
  aws {
    region
    bucket
    subnetId
    credentialsMode
    accessKeyIdHint
    accountId
    credentialsSecretName
    image
  }
}
    `, {"fragmentName":"BackendFields"}) as unknown as TypedDocumentString<BackendFieldsFragment, unknown>;
export const ProvisioningRunFieldsFragmentDoc = new TypedDocumentString(`
    fragment ProvisioningRunFields on ProvisioningRun {
  id
  kind
  status
  error
  createdAt
  startedAt
  finishedAt
  steps {
    name
    status
    resourceId
    attempts
    message
    startedAt
    finishedAt
  }
}
    `, {"fragmentName":"ProvisioningRunFields"}) as unknown as TypedDocumentString<ProvisioningRunFieldsFragment, unknown>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    id
    name
    globalRole
    createdAt
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const CreateApiTokenDocument = new TypedDocumentString(`
    mutation CreateApiToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken {
      id
      name
      prefix
      createdAt
      expiresAt
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<CreateApiTokenMutation, CreateApiTokenMutationVariables>;
export const AwsIamPolicyDocument = new TypedDocumentString(`
    query AwsIamPolicy($bucketName: String!) {
  awsIamPolicy(bucketName: $bucketName) {
    bucketName
    document
    json
  }
}
    `) as unknown as TypedDocumentString<AwsIamPolicyQuery, AwsIamPolicyQueryVariables>;
export const AwsRegionsDocument = new TypedDocumentString(`
    query AwsRegions {
  awsRegions {
    code
    name
  }
}
    `) as unknown as TypedDocumentString<AwsRegionsQuery, AwsRegionsQueryVariables>;
export const DiscoverAwsBackendDocument = new TypedDocumentString(`
    mutation DiscoverAwsBackend($input: DiscoverAwsBackendInput!) {
  discoverAwsBackend(input: $input) {
    defaultCredentialsAvailable
    identity {
      accountId
      arn
    }
    regions {
      code
      name
    }
    buckets {
      name
      region
      createdAt
    }
    subnets {
      id
      vpcId
      availabilityZone
      cidrBlock
      name
      isDefaultForAz
      mapsPublicIp
      public
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<DiscoverAwsBackendMutation, DiscoverAwsBackendMutationVariables>;
export const CreateAwsBackendDocument = new TypedDocumentString(`
    mutation CreateAwsBackend($projectId: ID!, $input: CreateAwsBackendInput!) {
  createAwsBackend(projectId: $projectId, input: $input) {
    backend {
      ...BackendFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment BackendFields on Backend {
  id
  name
  type
  status
  createdAt
  updatedAt
  aws {
    region
    bucket
    subnetId
    credentialsMode
    accessKeyIdHint
    accountId
    credentialsSecretName
    image
  }
}`) as unknown as TypedDocumentString<CreateAwsBackendMutation, CreateAwsBackendMutationVariables>;
export const BackendDocument = new TypedDocumentString(`
    query Backend($id: ID!) {
  backend(id: $id) {
    ...BackendFields
    project {
      id
      name
    }
    lastRun {
      ...ProvisioningRunFields
    }
  }
}
    fragment BackendFields on Backend {
  id
  name
  type
  status
  createdAt
  updatedAt
  aws {
    region
    bucket
    subnetId
    credentialsMode
    accessKeyIdHint
    accountId
    credentialsSecretName
    image
  }
}
fragment ProvisioningRunFields on ProvisioningRun {
  id
  kind
  status
  error
  createdAt
  startedAt
  finishedAt
  steps {
    name
    status
    resourceId
    attempts
    message
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<BackendQuery, BackendQueryVariables>;
export const InstanceOffersDocument = new TypedDocumentString(`
    query InstanceOffers($backendId: ID!, $filter: InstanceOfferFilter) {
  instanceOffers(backendId: $backendId, filter: $filter) {
    instanceType
    vcpus
    memoryMiB
    gpus {
      name
      memoryMiB
      count
    }
    onDemandPricePerHour
    spotPricePerHour
    spotAvailable
  }
}
    `) as unknown as TypedDocumentString<InstanceOffersQuery, InstanceOffersQueryVariables>;
export const LaunchInstanceDocument = new TypedDocumentString(`
    mutation LaunchInstance($backendId: ID!, $input: LaunchInstanceInput!) {
  launchInstance(backendId: $backendId, input: $input) {
    instance {
      ...InstanceFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment InstanceFields on Instance {
  id
  name
  instanceType
  market
  region
  status
  statusReason
  awsInstanceId
  spotRequestId
  pricePerHour
  createdAt
  terminatedAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<LaunchInstanceMutation, LaunchInstanceMutationVariables>;
export const InstanceDocument = new TypedDocumentString(`
    query Instance($id: ID!) {
  instance(id: $id) {
    ...InstanceFields
    backend {
      id
      name
    }
  }
}
    fragment InstanceFields on Instance {
  id
  name
  instanceType
  market
  region
  status
  statusReason
  awsInstanceId
  spotRequestId
  pricePerHour
  createdAt
  terminatedAt
}`) as unknown as TypedDocumentString<InstanceQuery, InstanceQueryVariables>;
export const TerminateInstanceDocument = new TypedDocumentString(`
    mutation TerminateInstance($id: ID!) {
  terminateInstance(id: $id) {
    instance {
      ...InstanceFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment InstanceFields on Instance {
  id
  name
  instanceType
  market
  region
  status
  statusReason
  awsInstanceId
  spotRequestId
  pricePerHour
  createdAt
  terminatedAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<TerminateInstanceMutation, TerminateInstanceMutationVariables>;
export const InstanceUpdatedDocument = new TypedDocumentString(`
    subscription InstanceUpdated($id: ID!) {
  instanceUpdated(id: $id) {
    ...InstanceFields
  }
}
    fragment InstanceFields on Instance {
  id
  name
  instanceType
  market
  region
  status
  statusReason
  awsInstanceId
  spotRequestId
  pricePerHour
  createdAt
  terminatedAt
}`) as unknown as TypedDocumentString<InstanceUpdatedSubscription, InstanceUpdatedSubscriptionVariables>;
export const ProjectsDocument = new TypedDocumentString(`
    query Projects($first: Int, $after: String) {
  projects(first: $first, after: $after) {
    edges {
      cursor
      node {
        ...ProjectFields
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment ProjectFields on Project {
  id
  name
  description
  myRole
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<ProjectsQuery, ProjectsQueryVariables>;
export const CreateProjectDocument = new TypedDocumentString(`
    mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) {
    project {
      ...ProjectFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ProjectFields on Project {
  id
  name
  description
  myRole
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<CreateProjectMutation, CreateProjectMutationVariables>;
export const ProjectByNameDocument = new TypedDocumentString(`
    query ProjectByName($name: String!) {
  project(name: $name) {
    ...ProjectFields
    members {
      role
      user {
        id
        name
      }
    }
    backends(first: 100) {
      edges {
        node {
          id
          name
          status
          aws {
            region
            bucket
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
    fragment ProjectFields on Project {
  id
  name
  description
  myRole
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<ProjectByNameQuery, ProjectByNameQueryVariables>;
export const SetProjectMemberDocument = new TypedDocumentString(`
    mutation SetProjectMember($projectId: ID!, $input: SetProjectMemberInput!) {
  setProjectMember(projectId: $projectId, input: $input) {
    project {
      id
      members {
        role
        user {
          id
          name
        }
      }
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<SetProjectMemberMutation, SetProjectMemberMutationVariables>;
export const ProvisionBackendDocument = new TypedDocumentString(`
    mutation ProvisionBackend($id: ID!) {
  provisionBackend(id: $id) {
    run {
      ...ProvisioningRunFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ProvisioningRunFields on ProvisioningRun {
  id
  kind
  status
  error
  createdAt
  startedAt
  finishedAt
  steps {
    name
    status
    resourceId
    attempts
    message
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<ProvisionBackendMutation, ProvisionBackendMutationVariables>;
export const ProvisioningRunDocument = new TypedDocumentString(`
    query ProvisioningRun($id: ID!) {
  provisioningRun(id: $id) {
    ...ProvisioningRunFields
    backend {
      id
      status
    }
  }
}
    fragment ProvisioningRunFields on ProvisioningRun {
  id
  kind
  status
  error
  createdAt
  startedAt
  finishedAt
  steps {
    name
    status
    resourceId
    attempts
    message
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<ProvisioningRunQuery, ProvisioningRunQueryVariables>;
export const ProvisioningRunUpdatedDocument = new TypedDocumentString(`
    subscription ProvisioningRunUpdated($id: ID!) {
  provisioningRunUpdated(id: $id) {
    ...ProvisioningRunFields
    backend {
      id
      status
    }
  }
}
    fragment ProvisioningRunFields on ProvisioningRun {
  id
  kind
  status
  error
  createdAt
  startedAt
  finishedAt
  steps {
    name
    status
    resourceId
    attempts
    message
    startedAt
    finishedAt
  }
}`) as unknown as TypedDocumentString<ProvisioningRunUpdatedSubscription, ProvisioningRunUpdatedSubscriptionVariables>;
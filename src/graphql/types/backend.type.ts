import { Field, ID, ObjectType } from "type-graphql";
import { AwsCredentialsMode, BackendStatus, BackendType } from "../../generated/prisma/enums.js";
import { ConnectionTypes } from "./connection.type.js";
import "../enums.js";

@ObjectType({ description: "How an AWS backend reaches its account. The secret access key is never readable." })
export class AwsBackendConfig {
  @Field({ description: "Region where compute runs and the bucket lives, e.g. eu-west-1." })
  region: string;

  @Field({ description: "S3 bucket for state and artifacts." })
  bucket: string;

  @Field(() => String, { nullable: true, description: "Subnet for instances; null: the region's default VPC." })
  subnetId: string | null;

  @Field(() => AwsCredentialsMode, { description: "Default credentials or an access key." })
  credentialsMode: AwsCredentialsMode;

  @Field(() => String, { nullable: true, description: 'The access key id, masked (e.g. "AKIA…WXYZ"); null for default credentials.' })
  accessKeyIdHint: string | null;

  @Field(() => String, { nullable: true, description: "AWS account id the credentials belong to." })
  accountId: string | null;

  @Field(() => String, { nullable: true, description: "Image instances launch from: an AMI id, or \"<owner>/<name pattern>\"; null: newest Ubuntu 22.04 LTS owned by Canonical." })
  image: string | null;

  @Field(() => String, { nullable: true, description: 'Secrets Manager secret holding the sealed credentials: "/dstack/<bucket>/credentials/<backend id>".' })
  credentialsSecretName: string | null;
}

@ObjectType({ description: "A cloud account attached to a project, where its compute runs." })
export class Backend {
  @Field(() => ID, { description: "Opaque id." })
  id: string;

  /** Not a GraphQL field: resolves `project`. */
  projectId: string;

  @Field({ description: "Name, unique within the project." })
  name: string;

  @Field(() => BackendType, { description: "Which cloud." })
  type: BackendType;

  @Field(() => BackendStatus, { description: "Life-cycle state." })
  status: BackendStatus;

  @Field(() => AwsBackendConfig, { nullable: true, description: "AWS settings; set when type is AWS." })
  aws: AwsBackendConfig | null;

  @Field({ description: "When the backend was created." })
  createdAt: Date;

  @Field({ description: "When the backend last changed." })
  updatedAt: Date;

  @Field(() => Date, { nullable: true, description: "When the reconciler last finished a pass over it (every RECONCILE_SECONDS, or reconcileBackend)." })
  lastReconciledAt: Date | null;
}

export const { Edge: BackendEdge, Connection: BackendConnection } = ConnectionTypes(Backend, "Backend");

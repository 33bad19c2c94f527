// What the backend mutations take and give, as the service sees them (the GraphQL input types in
// graphql/types/backend.inputs.ts mirror them), and the user errors about them that more than one
// part of the backends capability reports.
import type { AwsCredentialSource } from "../aws/clients.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { Backend } from "../generated/prisma/client.js";
import type { AwsCredentialsMode } from "../generated/prisma/enums.js";
import type { ImageInput } from "./backend-image.js";

export interface CredentialsInput {
  mode: AwsCredentialsMode;
  accessKeyId?: string | null;
  secretAccessKey?: string | null;
}

export interface DiscoverInput {
  credentials?: CredentialsInput | null;
  region?: string | null;
  bucket?: string | null;
  subnetId?: string | null;
}

export interface CreateAwsBackendInput {
  image?: ImageInput | null;
  name?: string | null;
  region: string;
  bucket: string;
  subnetId?: string | null;
  credentials: CredentialsInput;
}

export interface UpdateAwsBackendInput {
  image?: ImageInput | null;
  name?: string | null;
  region?: string | null;
  bucket?: string | null;
  subnetId?: string | null;
  credentials?: CredentialsInput | null;
}

export interface BackendResult {
  backend?: Backend;
  userErrors: UserErrorData[];
}

export const CREDENTIALS_FIELD = ["input", "credentials"];

/** The credentials entered, as the AWS client factory takes them (the access key id trimmed). */
export function toSource(input: CredentialsInput): AwsCredentialSource {
  return input.mode === "DEFAULT"
    ? { mode: "DEFAULT" }
    : { mode: "ACCESS_KEY", accessKeyId: input.accessKeyId?.trim() ?? "", secretAccessKey: input.secretAccessKey ?? "" };
}

/** Stored credentials that cannot be opened: say so, and how to recover, without a 500. */
export function unreadableCredentials(error: Error, field: string[]): UserErrorData {
  return {
    code: UserErrorCode.AWS_CREDENTIALS_INVALID,
    message: `The backend's stored credentials cannot be used (${error.message}). Enter the access key again (input.credentials) to replace them.`,
    field,
  };
}

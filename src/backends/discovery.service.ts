// Backend discovery: from whatever the user has entered so far (credentials, region, bucket,
// subnet), return the options for the next fields and every problem found, each on the field it
// concerns. Independent AWS calls run in parallel, so the answer takes about as long as the
// slowest call. Whether DEFAULT credentials may be used at all is decided by the caller.
import type { AwsClientFactory, AwsCredentialSource } from "../aws/clients.js";
import {
  checkBucket,
  findSubnetRegion,
  getCallerIdentity,
  listBucketsWithRegions,
  listSubnets,
  type AwsSession,
  type BucketSummary,
  type CallerIdentity,
  type SubnetSummary,
} from "../aws/discovery.js";
import type { AwsFailure } from "../aws/errors.js";
import { awsUserError } from "../aws/user-errors.js";
import { validateBucketName } from "../aws/iam-policy.js";
import { checkRoleNameLength } from "../aws/names.js";
import { AWS_REGIONS, DEFAULT_ENABLED_REGIONS, isKnownRegion } from "../aws/regions.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";

export interface AwsDiscoveryInput {
  credentials?: AwsCredentialSource;
  region?: string;
  bucket?: string;
  subnetId?: string;
}

export interface AwsDiscoveryResult {
  identity: CallerIdentity | null;
  regions: { code: string; name: string }[];
  buckets: BucketSummary[];
  subnets: SubnetSummary[];
  userErrors: UserErrorData[];
}

const FIELD = {
  credentials: ["input", "credentials"],
  accessKeyId: ["input", "credentials", "accessKeyId"],
  secretAccessKey: ["input", "credentials", "secretAccessKey"],
  region: ["input", "region"],
  bucket: ["input", "bucket"],
  subnetId: ["input", "subnetId"],
} as const;

/** What a denied call keeps the user from doing, for the AWS_ACCESS_DENIED message. */
const BLOCKED: Record<string, string> = {
  ListBuckets: "Cannot list the account's buckets (you can still type a bucket name)",
  GetBucketLocation: "Cannot read the bucket's region",
  ListObjectsV2: "Cannot use the bucket",
  DescribeSubnets: "Cannot list or check subnets in this region",
  DescribeRouteTables:
    "Cannot tell public from private subnets (this action is not in the documented policy; grant it to see which subnets reach the internet)",
};

const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

export class AwsDiscoveryService {
  constructor(private readonly aws: AwsClientFactory) {}

  async discover(input: AwsDiscoveryInput): Promise<AwsDiscoveryResult> {
    const errors = new UserErrors();
    const result: AwsDiscoveryResult = {
      identity: null,
      regions: AWS_REGIONS.map(({ code, name }) => ({ code, name })),
      buckets: [],
      subnets: [],
      userErrors: [],
    };

    const region = input.region || undefined;
    const regionOk = region !== undefined && isKnownRegion(region);
    if (region !== undefined && !regionOk) {
      errors.add(UserErrorCode.REGION_INVALID, `"${region}" is not an AWS region.`, FIELD.region);
    }
    const bucket = input.bucket || undefined;
    const bucketProblems = bucket ? validateBucketName(bucket) : [];
    for (const problem of bucketProblems) errors.add(UserErrorCode.INVALID_INPUT, problem, FIELD.bucket);
    const roleProblem = bucket && bucketProblems.length === 0 ? checkRoleNameLength(bucket) : null;
    if (roleProblem) errors.add(UserErrorCode.INVALID_INPUT, roleProblem, FIELD.bucket);

    const credentials = input.credentials;
    if (!credentials) return { ...result, userErrors: errors.list() };
    if (credentials.mode === "ACCESS_KEY" && (!credentials.accessKeyId || !credentials.secretAccessKey)) {
      if (!credentials.accessKeyId) errors.add(UserErrorCode.INVALID_INPUT, "Enter the access key ID.", FIELD.accessKeyId);
      if (!credentials.secretAccessKey) errors.add(UserErrorCode.INVALID_INPUT, "Enter the secret access key.", FIELD.secretAccessKey);
      return { ...result, userErrors: errors.list() };
    }
    const session: AwsSession = { factory: this.aws, credentials };

    // Everything independent starts at once; only the subnet's other-region lookup waits for the listing.
    const [identity, bucketList, bucketCheck, subnetList] = await Promise.all([
      getCallerIdentity(session),
      listBucketsWithRegions(session),
      bucket && bucketProblems.length === 0 ? checkBucket(session, bucket, regionOk ? region : undefined) : undefined,
      regionOk ? this.subnetsWithLookup(session, region, input.subnetId || undefined) : undefined,
    ]);

    if (!identity.ok) {
      reportCredentialFailure(errors, credentials, identity.error);
      // Bad credentials fail every call the same way: report them once and nothing else. Any other
      // failure (throttled, unreachable) says nothing about the other calls, so their results stay.
      if (identity.error.kind === "INVALID_CREDENTIALS" || identity.error.kind === "NO_CREDENTIALS") {
        return { ...result, userErrors: errors.list() };
      }
    } else {
      result.identity = identity.value;
    }

    if (bucketList.ok) {
      result.buckets = bucketList.value.buckets;
      for (const failure of bucketList.value.locationErrors) errors.addFailure(failure, FIELD.bucket);
    } else {
      errors.addFailure(bucketList.error, FIELD.bucket);
    }

    if (bucket && bucketCheck) {
      if (!bucketCheck.ok) {
        errors.addFailure(bucketCheck.error, FIELD.bucket);
      } else if (bucketCheck.value.status === "NOT_FOUND") {
        errors.add(UserErrorCode.BUCKET_NOT_FOUND, `Bucket "${bucket}" does not exist.`, FIELD.bucket);
      } else {
        const check = bucketCheck.value;
        if (check.status === "ACCESS_DENIED") {
          errors.add(
            UserErrorCode.BUCKET_ACCESS_DENIED,
            check.region
              ? `Bucket "${bucket}" exists, but these credentials are not allowed to perform ${check.error.action} on it.`
              : `These credentials are not allowed to perform ${check.error.action} on bucket "${bucket}"; it may belong to another AWS account.`,
            FIELD.bucket,
          );
        } else if (check.locationError) {
          errors.addFailure(check.locationError, FIELD.bucket);
        }
        if (check.region && regionOk && check.region !== region) {
          errors.add(
            UserErrorCode.BUCKET_IN_OTHER_REGION,
            `Bucket "${bucket}" is in ${check.region}, not in ${region}. Choose region ${check.region}, or a bucket in ${region}.`,
            FIELD.bucket,
          );
        }
      }
    }

    if (subnetList) {
      result.subnets = subnetList.subnets;
      for (const error of subnetList.errors) errors.push(error);
    }
    return { ...result, userErrors: errors.list() };
  }

  /** The region's subnets, plus the checks on the chosen subnet (which may need other regions). */
  private async subnetsWithLookup(
    session: AwsSession,
    region: string,
    subnetId: string | undefined,
  ): Promise<{ subnets: SubnetSummary[]; errors: UserErrorData[] }> {
    const errors = new UserErrors();
    const listing = await listSubnets(session, region);
    if (!listing.ok) {
      if (listing.error.kind === "INVALID_CREDENTIALS") {
        // Only reached when STS (in us-east-1) accepted the keys: AWS refusing them in this one
        // region means the account has not enabled it (opt-in regions answer AuthFailure).
        errors.add(
          UserErrorCode.REGION_INVALID,
          `AWS refused these credentials in ${region} (${listing.error.code}) although they are valid: the region is probably not enabled for this account.`,
          FIELD.region,
        );
      } else {
        errors.addFailure(listing.error, FIELD.subnetId);
      }
      return { subnets: [], errors: errors.list() };
    }
    // The seed's policy has no ec2:DescribeRouteTables: without it subnets still list, with
    // `public: null` (the field's description says which action would fill it in). Not an error:
    // it would block every backend created with the documented policy.
    const subnets = listing.value.subnets;
    if (subnetId && !subnets.some((subnet) => subnet.id === subnetId)) {
      if (!SUBNET_ID.test(subnetId)) {
        errors.add(UserErrorCode.SUBNET_NOT_FOUND, `"${subnetId}" is not a subnet ID (expected subnet- and 8 or 17 hex digits).`, FIELD.subnetId);
      } else {
        // The listing is complete, so the subnet is not in this region; say where it is, if we can see it.
        const elsewhere = await findSubnetRegion(session, subnetId, DEFAULT_ENABLED_REGIONS.filter((r) => r !== region));
        if (elsewhere) {
          errors.add(
            UserErrorCode.SUBNET_NOT_IN_REGION,
            `Subnet ${subnetId} is in ${elsewhere}, not in ${region}. Choose a subnet in ${region}, or region ${elsewhere}.`,
            FIELD.subnetId,
          );
        } else {
          errors.add(UserErrorCode.SUBNET_NOT_FOUND, `Subnet ${subnetId} does not exist in ${region}.`, FIELD.subnetId);
        }
      }
    }
    return { subnets, errors: errors.list() };
  }
}

function reportCredentialFailure(errors: UserErrors, credentials: AwsCredentialSource, failure: AwsFailure) {
  if (failure.kind !== "INVALID_CREDENTIALS" && failure.kind !== "NO_CREDENTIALS") {
    errors.addFailure(failure, FIELD.credentials);
    return;
  }
  const message = failure.kind === "NO_CREDENTIALS" ? failure.message : `${failure.message} (AWS answered ${failure.code}.)`;
  if (credentials.mode === "DEFAULT") {
    errors.add(UserErrorCode.AWS_CREDENTIALS_INVALID, message, FIELD.credentials);
  } else if (failure.code === "SignatureDoesNotMatch") {
    // The key is known to AWS, so only the secret is wrong.
    errors.add(UserErrorCode.AWS_CREDENTIALS_INVALID, message, FIELD.secretAccessKey);
  } else {
    errors.add(UserErrorCode.AWS_CREDENTIALS_INVALID, message, FIELD.accessKeyId);
    errors.add(UserErrorCode.AWS_CREDENTIALS_INVALID, message, FIELD.secretAccessKey);
  }
}

/** Collects user errors, dropping exact duplicates (e.g. the same denial for every bucket). */
class UserErrors {
  private readonly items = new Map<string, UserErrorData>();

  add(code: UserErrorCode, message: string, field: readonly string[]) {
    const error: UserErrorData = { code, message, field: [...field] };
    this.push(error);
  }

  push(error: UserErrorData) {
    const key = JSON.stringify([error.code, error.field, error.message]);
    if (!this.items.has(key)) this.items.set(key, error);
  }

  /** A failed AWS call as a user error on the field it blocks (bad credentials: on the credentials). */
  addFailure(failure: AwsFailure, field: readonly string[]) {
    const blocked = BLOCKED[failure.operation] ?? `Cannot call ${failure.operation}`;
    this.push(awsUserError(failure, field, { blocked, credentialsField: FIELD.credentials }));
  }

  list(): UserErrorData[] {
    return [...this.items.values()];
  }
}

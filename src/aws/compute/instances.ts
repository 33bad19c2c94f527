// The instance API in one import: launch, describe, map to InstanceStatus, terminate, user data.
// Each part lives in its own file; this module only re-exports them.
export { buildUserData, cloudConfig, parseSshPublicKey } from "./user-data.js";
export {
  launchWithRetry,
  normalizeClientToken,
  runInstance,
  runInstancesInput,
  type InstanceMarket,
  type LaunchedInstance,
  type LaunchRetryOptions,
  type RunInstanceInput,
} from "./launch.js";
export { describeInstances, describeSpotRequests, IDS_PER_CALL, type InstanceInfo, type Listing, type SpotRequestInfo } from "./describe.js";
export { mapInstanceStatus, statusOfInstanceState, type InstanceStatus, type MappedStatus, type StatusInput } from "./status.js";
export { terminateInstance, type TerminateInput, type TerminateOutcome } from "./terminate.js";
export { BUCKET_TAG, CLIENT_TOKEN_TAG, instanceTags } from "../names.js";
export { isRetryable, type AwsErrorKind, type AwsFailure, type AwsResult } from "../errors.js";

// The AWS error codes behind each kind of failure (errors.ts classifies with them). Codes come from
// the services' documentation and from what moto answers; a new code AWS starts sending goes here.

export const INVALID_CREDENTIAL_CODES: Record<string, string> = {
  InvalidClientTokenId: "AWS does not recognise the access key ID.",
  InvalidAccessKeyId: "AWS does not recognise the access key ID.",
  UnrecognizedClientException: "AWS does not recognise the access key ID.",
  SignatureDoesNotMatch: "The secret access key does not match the access key ID.",
  IncompleteSignature: "AWS could not verify the request signature made with these credentials.",
  ExpiredToken: "The credentials have expired.",
  ExpiredTokenException: "The credentials have expired.",
  InvalidToken: "The session token is invalid.",
  TokenRefreshRequired: "The credentials have expired.",
  // EC2's answer for both an unknown key and a wrong secret (HTTP 401).
  AuthFailure: "AWS could not validate the credentials.",
};

export const ACCESS_DENIED_CODES = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "AllAccessDisabled"]);

/** Throttling, 5xx, timeouts, connection failures: worth retrying later. */
export const TRANSIENT_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
  "InternalError",
  "InternalFailure",
  "InternalServiceError",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

export const NOT_FOUND_CODES = new Set(["NotFound", "NoSuchBucket", "NoSuchKey", "NoSuchEntity", "NoSuchEntityException", "ResourceNotFoundException"]);

/** Codes AWS uses for a request parameter it will not accept. */
export const INVALID_PARAMETER_CODES = new Set([
  "InvalidParameterValue",
  "InvalidParameter",
  "InvalidParameterCombination",
  "InvalidParameterException",
  "InvalidInput",
  "MissingParameter",
  "ValidationError",
  "ValidationException",
  "MalformedPolicyDocument",
  "MalformedPolicyDocumentException",
  "MalformedXML",
  "InvalidArgument",
  "InvalidRequest",
]);

/** Launches EC2 refuses for lack of capacity, quota or spot price; AWS's message says which. */
export const NO_CAPACITY_CODES = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientCapacity",
  "InsufficientHostCapacity",
  "InsufficientCapacityOnHost",
  "InsufficientReservedInstanceCapacity",
  "SpotMaxPriceTooLow",
  "MaxSpotInstanceCountExceeded",
  "InstanceLimitExceeded",
  "VcpuLimitExceeded",
  "InsufficientFreeAddressesInSubnet",
]);

export const INSTANCE_TYPE_CODES = new Set(["Unsupported", "InvalidInstanceType", "UnsupportedOperation"]);

/** EC2's words for an instance profile created moments ago that has not propagated yet. */
export const IAM_PROPAGATION_MESSAGE = /Invalid IAM Instance Profile|has no associated IAM Roles|Instance Profile .* does not exist|cannot be assumed/i;
export const INSTANCE_TYPE_MESSAGE = /instance ?type|InstanceType|architecture/i;

// AWS commercial regions (partition "aws"). Static on purpose: the documented IAM policy grants no
// ec2:DescribeRegions, and a region picker must work before any credentials are entered.
// Update when AWS opens a region.

export interface AwsRegion {
  code: string;
  name: string;
  /** Launched after March 2019: disabled until the account opts in, and calls there fail until then. */
  optIn: boolean;
}

export const AWS_REGIONS: readonly AwsRegion[] = [
  { code: "us-east-1", name: "US East (N. Virginia)", optIn: false },
  { code: "us-east-2", name: "US East (Ohio)", optIn: false },
  { code: "us-west-1", name: "US West (N. California)", optIn: false },
  { code: "us-west-2", name: "US West (Oregon)", optIn: false },
  { code: "af-south-1", name: "Africa (Cape Town)", optIn: true },
  { code: "ap-east-1", name: "Asia Pacific (Hong Kong)", optIn: true },
  { code: "ap-east-2", name: "Asia Pacific (Taipei)", optIn: true },
  { code: "ap-south-1", name: "Asia Pacific (Mumbai)", optIn: false },
  { code: "ap-south-2", name: "Asia Pacific (Hyderabad)", optIn: true },
  { code: "ap-northeast-1", name: "Asia Pacific (Tokyo)", optIn: false },
  { code: "ap-northeast-2", name: "Asia Pacific (Seoul)", optIn: false },
  { code: "ap-northeast-3", name: "Asia Pacific (Osaka)", optIn: false },
  { code: "ap-southeast-1", name: "Asia Pacific (Singapore)", optIn: false },
  { code: "ap-southeast-2", name: "Asia Pacific (Sydney)", optIn: false },
  { code: "ap-southeast-3", name: "Asia Pacific (Jakarta)", optIn: true },
  { code: "ap-southeast-4", name: "Asia Pacific (Melbourne)", optIn: true },
  { code: "ap-southeast-5", name: "Asia Pacific (Malaysia)", optIn: true },
  { code: "ap-southeast-6", name: "Asia Pacific (New Zealand)", optIn: true },
  { code: "ap-southeast-7", name: "Asia Pacific (Thailand)", optIn: true },
  { code: "ca-central-1", name: "Canada (Central)", optIn: false },
  { code: "ca-west-1", name: "Canada West (Calgary)", optIn: true },
  { code: "eu-central-1", name: "Europe (Frankfurt)", optIn: false },
  { code: "eu-central-2", name: "Europe (Zurich)", optIn: true },
  { code: "eu-west-1", name: "Europe (Ireland)", optIn: false },
  { code: "eu-west-2", name: "Europe (London)", optIn: false },
  { code: "eu-west-3", name: "Europe (Paris)", optIn: false },
  { code: "eu-south-1", name: "Europe (Milan)", optIn: true },
  { code: "eu-south-2", name: "Europe (Spain)", optIn: true },
  { code: "eu-north-1", name: "Europe (Stockholm)", optIn: false },
  { code: "il-central-1", name: "Israel (Tel Aviv)", optIn: true },
  { code: "me-south-1", name: "Middle East (Bahrain)", optIn: true },
  { code: "me-central-1", name: "Middle East (UAE)", optIn: true },
  { code: "mx-central-1", name: "Mexico (Central)", optIn: true },
  { code: "sa-east-1", name: "South America (São Paulo)", optIn: false },
];

const BY_CODE = new Map(AWS_REGIONS.map((region) => [region.code, region]));

export function isKnownRegion(code: string): boolean {
  return BY_CODE.has(code);
}

/** Regions every account can call without opting in: where a lookup across regions is worth trying. */
export const DEFAULT_ENABLED_REGIONS: readonly string[] = AWS_REGIONS.filter((r) => !r.optIn).map((r) => r.code);

/** Where calls that are not about a region (STS identity, ListBuckets) go: enabled in every account. */
export const HOME_REGION = "us-east-1";

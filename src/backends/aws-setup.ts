// What a user needs before filling in the AWS backend form: the regions and the IAM policy to
// attach for a bucket (the seed's template, filled in).
import { awsIamPolicyDocument, validateBucketName } from "../aws/iam-policy.js";
import { checkRoleNameLength } from "../aws/names.js";
import { AWS_REGIONS } from "../aws/regions.js";
import { BadUserInputError } from "../errors/errors.js";

export function awsRegions(): { code: string; name: string }[] {
  return AWS_REGIONS.map(({ code, name }) => ({ code, name }));
}

/** The policy for `bucketName`; a coded BAD_USER_INPUT error naming the field when the bucket name cannot work. */
export function awsIamPolicy(bucketName: string): { bucketName: string; document: object; json: string } {
  const problems = validateBucketName(bucketName);
  const tooLong = problems.length ? null : checkRoleNameLength(bucketName);
  if (problems.length || tooLong) throw new BadUserInputError([...problems, ...(tooLong ? [tooLong] : [])].join(" "), "bucketName");
  const document = awsIamPolicyDocument(bucketName);
  return { bucketName, document, json: JSON.stringify(document, null, 2) };
}

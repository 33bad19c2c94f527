// Read-only checks of the backend's security group, log groups and bucket lifecycle rules. Each
// answers null for "does not exist" and a classified failure (e.g. ACCESS_DENIED) otherwise; every
// call is in the seed's policy.
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { LifecycleRule } from "@aws-sdk/client-s3";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { sdk } from "../sdk.js";

/** ec2:DescribeSecurityGroups by the group-id filter (an unknown id is left out, not an error). */
export async function readSecurityGroup(session: AwsSession, region: string, groupId: string): Promise<AwsResult<SecurityGroup | null>> {
  const { DescribeSecurityGroupsCommand } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const result = await attempt("ec2", "DescribeSecurityGroups", () =>
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] })),
  );
  if (!result.ok) return result;
  return { ok: true, value: (result.value.SecurityGroups ?? []).find((group) => group.GroupId === groupId) ?? null };
}

/**
 * logs:DescribeLogGroups: whether a group named exactly `name` exists. The call matches by prefix,
 * so pages are read until the name is seen or the listing ends.
 */
export async function logGroupPresent(session: AwsSession, region: string, name: string): Promise<AwsResult<boolean>> {
  const { DescribeLogGroupsCommand } = await sdk.logs();
  const logs = await session.factory.client("logs", region, session.credentials);
  return attempt("logs", "DescribeLogGroups", async () => {
    let nextToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const answer = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken, limit: 50 }));
      if ((answer.logGroups ?? []).some((group) => group.logGroupName === name)) return true;
      nextToken = answer.nextToken || undefined;
      if (!nextToken) return false;
    }
    return false;
  });
}

/** s3:GetLifecycleConfiguration: the bucket's rules ([] without a configuration); null when the bucket is gone. */
export async function lifecycleRules(session: AwsSession, region: string, bucket: string): Promise<AwsResult<LifecycleRule[] | null>> {
  const { GetBucketLifecycleConfigurationCommand } = await sdk.s3();
  const s3 = await session.factory.client("s3", region, session.credentials);
  const result = await attempt("s3", "GetBucketLifecycleConfiguration", () => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })));
  if (result.ok) return { ok: true, value: result.value.Rules ?? [] };
  if (result.error.code === "NoSuchLifecycleConfiguration") return { ok: true, value: [] };
  if (result.error.code === "NoSuchBucket") return { ok: true, value: null };
  return result;
}

// Read-only IAM checks of what provisioning made: the role (does it still exist, does EC2 still
// trust it), the managed policies attached to it, and the role an instance profile holds. Each
// answers null for "does not exist" and a classified failure (e.g. ACCESS_DENIED) otherwise.
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { trustsEc2 } from "../provisioning/documents.js";
import { sdk } from "../sdk.js";

export interface RoleState {
  arn: string;
  /** The trust policy still lets ec2.amazonaws.com assume the role. */
  trustsEc2: boolean;
}

function iam(session: AwsSession, region: string) {
  return session.factory.client("iam", region, session.credentials);
}

/** NOT_FOUND becomes a null value; anything else stays a failure. */
function nullWhenMissing<T>(result: AwsResult<T>): AwsResult<T | null> {
  if (!result.ok && result.error.kind === "NOT_FOUND") return { ok: true, value: null };
  return result;
}

/** iam:GetRole (in the seed's policy). */
export async function readRole(session: AwsSession, region: string, roleName: string): Promise<AwsResult<RoleState | null>> {
  const { GetRoleCommand } = await sdk.iam();
  const client = await iam(session, region);
  const result = nullWhenMissing(await attempt("iam", "GetRole", () => client.send(new GetRoleCommand({ RoleName: roleName }))));
  if (!result.ok || !result.value) return result as AwsResult<null>;
  const role = result.value.Role;
  return { ok: true, value: { arn: role?.Arn ?? "", trustsEc2: trustsEc2(role?.AssumeRolePolicyDocument) } };
}

/** iam:ListAttachedRolePolicies (beyond the seed's policy): the ARNs of the role's managed policies, all pages. */
export async function attachedPolicyArns(session: AwsSession, region: string, roleName: string): Promise<AwsResult<string[] | null>> {
  const { ListAttachedRolePoliciesCommand } = await sdk.iam();
  const client = await iam(session, region);
  const arns: string[] = [];
  const result = await attempt("iam", "ListAttachedRolePolicies", async () => {
    let Marker: string | undefined;
    do {
      const page = await client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker, MaxItems: 100 }));
      for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) arns.push(policy.PolicyArn);
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
  });
  if (!result.ok) return nullWhenMissing(result) as AwsResult<null>;
  return { ok: true, value: arns };
}

/** iam:GetInstanceProfile (in the seed's policy): the names of the roles it holds. */
export async function instanceProfileRoles(session: AwsSession, region: string, profileName: string): Promise<AwsResult<string[] | null>> {
  const { GetInstanceProfileCommand } = await sdk.iam();
  const client = await iam(session, region);
  const result = nullWhenMissing(
    await attempt("iam", "GetInstanceProfile", () => client.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }))),
  );
  if (!result.ok || !result.value) return result as AwsResult<null>;
  return { ok: true, value: (result.value.InstanceProfile?.Roles ?? []).map((role) => role.RoleName ?? "").filter(Boolean) };
}

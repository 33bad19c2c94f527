// Thin CloudWatch Logs operations for the backend's log groups.
import { awsCall, awsValue } from "./failures.js";
import type { AwsTarget } from "./iam.js";
import type { Tag } from "../names.js";
import { sdk } from "../sdk.js";

function logsClient(target: AwsTarget) {
  return target.session.factory.client("logs", target.region, target.session.credentials);
}

/** A bound on the pages read, should an endpoint keep answering with a token. */
const MAX_PAGES = 100;

/**
 * Whether a log group named exactly `name` exists. DescribeLogGroups matches by prefix, so
 * `/dstack/jobs/<bucket>` also lists `/dstack/jobs/<bucket>/<repo>` groups; pages are read until
 * the exact name is seen (it sorts first, so usually on the first page) or the listing ends.
 */
export async function logGroupExists(target: AwsTarget, name: string): Promise<boolean> {
  const { paginateDescribeLogGroups } = await sdk.logs();
  const logs = await logsClient(target);
  return awsValue("logs", "DescribeLogGroups", { doing: `looking up log group ${name}` }, async () => {
    let pages = 0;
    for await (const page of paginateDescribeLogGroups({ client: logs }, { logGroupNamePrefix: name, limit: 50 })) {
      if ((page.logGroups ?? []).some((group) => group.logGroupName === name)) return true;
      if (++pages >= MAX_PAGES) break;
    }
    return false;
  });
}

/**
 * CreateLogGroup with tags; "exists" when it was created meanwhile by someone else
 * (ResourceAlreadyExistsException). The same answer to the SDK's retry of the call means the first
 * attempt created it (its answer was lost): "created".
 */
export async function createLogGroup(target: AwsTarget, name: string, tags: Tag[]): Promise<"created" | "exists"> {
  const { CreateLogGroupCommand } = await sdk.logs();
  const logs = await logsClient(target);
  const result = await awsCall(
    "logs",
    "CreateLogGroup",
    { doing: `creating log group ${name}`, parameter: `the log group name ${name}` },
    () =>
      logs.send(
        new CreateLogGroupCommand({ logGroupName: name, tags: Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])) }),
      ),
    (failure) => failure.code === "ResourceAlreadyExistsException",
  );
  return result.ok || result.attempts > 1 ? "created" : "exists";
}

/** DeleteLogGroup; "gone" when it no longer exists. */
export async function deleteLogGroup(target: AwsTarget, name: string): Promise<"deleted" | "gone"> {
  const { DeleteLogGroupCommand } = await sdk.logs();
  const logs = await logsClient(target);
  const result = await awsCall(
    "logs",
    "DeleteLogGroup",
    { doing: `deleting log group ${name}`, leftBehind: `log group ${name} in ${target.region}` },
    () => logs.send(new DeleteLogGroupCommand({ logGroupName: name })),
    (failure) => failure.kind === "NOT_FOUND",
  );
  return result.ok ? "deleted" : "gone";
}

// Tags of everything compute creates. `dstack_bucket` is the one that matters for safety: the seed's
// policy only lets the backend terminate instances and cancel spot requests carrying it, and
// terminateInstance refuses anything without it.
export interface Ec2Tag {
  Key: string;
  Value: string;
}

export const BUCKET_TAG = "dstack_bucket";
/** Holds the launch's client token, so a retried launch can find the instance an earlier attempt created. */
export const CLIENT_TOKEN_TAG = "dstack_client_token";

/** The tags the issue asks for on every instance, its volume and its spot request. */
export function instanceTags(input: { name: string; bucket: string; backendId: string; projectId: string }): Record<string, string> {
  return {
    Name: input.name,
    owner: "dstack",
    [BUCKET_TAG]: input.bucket,
    dstack_backend: input.backendId,
    dstack_project: input.projectId,
  };
}

export function toTagList(tags: Record<string, string>): Ec2Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagRecord(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key) record[tag.Key] = tag.Value ?? "";
  return record;
}

// Artifacts in the backend's bucket: listing under a project's prefix (ListObjectsV2, one page at a
// time), and short-lived presigned GET URLs that can only name keys under that prefix.
import type { ListObjectsV2CommandInput } from "@aws-sdk/client-s3";
import type { AwsSession } from "../discovery.js";
import { attempt, localFailure, type AwsResult } from "../errors.js";
import { s3RequestPresigner, sdk } from "../sdk.js";

export interface ArtifactObject {
  key: string;
  size: number;
  lastModified: Date | null;
}

export interface ArtifactPage {
  objects: ArtifactObject[];
  /** ListObjectsV2's continuation token for the next page; absent on the last page. */
  nextToken?: string;
}

/** "artifacts/<project id>/": the prefix a project's artifacts live under. */
export function projectArtifactsPrefix(projectId: string): string {
  return `artifacts/${projectId}/`;
}

/**
 * One page of objects under `prefix` (which the caller has already scoped to
 * artifacts/<project id>/…), in key order, resuming at `continuationToken` or after the key
 * `startAfter`. `limit` is clamped to 1…1000.
 */
export async function listArtifacts(
  session: AwsSession,
  region: string,
  query: { bucket: string; prefix: string; limit: number; continuationToken?: string | null; startAfter?: string | null },
): Promise<AwsResult<ArtifactPage>> {
  const input: ListObjectsV2CommandInput = {
    Bucket: query.bucket,
    Prefix: query.prefix,
    MaxKeys: Math.min(Math.max(Math.trunc(query.limit) || 1, 1), 1000),
    ContinuationToken: query.continuationToken || undefined,
    // Keys after this one (S3 ignores it when a continuation token is given).
    StartAfter: query.startAfter || undefined,
  };
  const { ListObjectsV2Command } = await sdk.s3();
  const s3 = await session.factory.client("s3", region, session.credentials);
  const result = await attempt("s3", "ListObjectsV2", () => s3.send(new ListObjectsV2Command(input)));
  if (!result.ok) return result;
  const objects = (result.value.Contents ?? []).flatMap((object) =>
    object.Key ? [{ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? null }] : [],
  );
  const nextToken = result.value.IsTruncated ? result.value.NextContinuationToken || undefined : undefined;
  return { ok: true, value: nextToken ? { objects, nextToken } : { objects } };
}

/** Presigned URLs live at most this long here (the issue asks for minutes). */
export const MAX_PRESIGN_SECONDS = 3600;

/** Why `key` may not be presigned under `scopePrefix`, or null when it may. */
export function keyOutsidePrefix(key: string, scopePrefix: string): string | null {
  if (!scopePrefix.endsWith("/") || scopePrefix === "/") return `The scope prefix "${scopePrefix}" must be a folder ending in "/".`;
  if (!key.startsWith(scopePrefix) || key.length === scopePrefix.length) return `The key is not under ${scopePrefix}.`;
  // S3 keys are literal, but browsers and URL parsers collapse "." and ".." path segments.
  if (key.split("/").some((segment) => segment === "." || segment === "..")) return "The key contains '.' or '..' segments.";
  if (/[\p{Cc}]/u.test(key)) return "The key contains control characters.";
  return null;
}

/**
 * A presigned GET URL for `key`, valid for `expiresSeconds` (clamped to 1…3600). Refuses
 * (INVALID_INPUT) any key outside `scopePrefix`, e.g. "artifacts/<project id>/". Presigning makes no
 * network call.
 */
export async function presignDownload(
  session: AwsSession,
  region: string,
  input: { bucket: string; key: string; scopePrefix: string; expiresSeconds: number },
): Promise<AwsResult<string>> {
  const problem = keyOutsidePrefix(input.key, input.scopePrefix);
  if (problem) return { ok: false, error: localFailure("INVALID_INPUT", "s3", "GetObject", "KeyOutsidePrefix", problem) };
  const [{ GetObjectCommand }, { getSignedUrl }] = await Promise.all([sdk.s3(), s3RequestPresigner()]);
  const s3 = await session.factory.client("s3", region, session.credentials);
  const expiresIn = Math.min(Math.max(Math.trunc(input.expiresSeconds) || 1, 1), MAX_PRESIGN_SECONDS);
  return attempt("s3", "GetObject", () => getSignedUrl(s3, new GetObjectCommand({ Bucket: input.bucket, Key: input.key }), { expiresIn }));
}

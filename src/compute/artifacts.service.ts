// A project's artifacts in its backend's bucket, under artifacts/<project id>/, each with a
// short-lived presigned download URL that can reach only that object.
import { listArtifacts, presignDownload, projectArtifactsPrefix } from "../aws/compute/artifacts.js";
import type { Viewer } from "../users/viewer.js";
import { AwsQueryError, BadUserInputError } from "../errors/errors.js";
import type { Page } from "../db/pagination.js";
import type { BackendsService } from "../backends/backends.service.js";
import { scopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";
import { fingerprintOf, opaqueAwsCursor, pageSize, readAwsCursor } from "./logs.service.js";

export const DOWNLOAD_URL_SECONDS = 300;

export interface ArtifactView {
  key: string;
  size: number;
  lastModified: Date;
  downloadUrl: string;
}

export class ArtifactsService {
  constructor(private readonly backends: BackendsService) {}

  async list(viewer: Viewer, backendId: string, query: { prefix?: string | null; first?: number | null; after?: string | null }): Promise<Page<ArtifactView>> {
    const limit = pageSize(query.first);
    if (query.prefix && (query.prefix.startsWith("/") || query.prefix.split("/").some((part) => part === ".." || part === "."))) {
      throw new BadUserInputError("`prefix` is relative to the project's artifacts and may not contain '.' or '..' segments.", "prefix");
    }
    const scoped = await scopedBackend(this.backends, viewer, backendId, "VIEWER");
    if (!scoped) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
    const { backend, session } = scoped;
    const scope = projectArtifactsPrefix(backend.projectId);
    const fingerprint = fingerprintOf(backendId, query.prefix);
    const listPrefix = scope + (query.prefix ?? "");
    // Every cursor (each edge's and the page's end) is the key of its object: the next page starts
    // after it (StartAfter), so any edge's cursor works as `after`, as Relay expects.
    const startAfter = query.after ? readAwsCursor(query.after, fingerprint) : null;
    if (startAfter !== null && !startAfter.startsWith(listPrefix)) {
      throw new BadUserInputError("`after` is not a cursor of this query; pass an endCursor from a previous page of the same query.", "after");
    }
    const page = await listArtifacts(session, backend.awsRegion, { bucket: backend.awsBucket, prefix: listPrefix, limit, startAfter });
    if (!page.ok) throw new AwsQueryError(awsUserError(page.error, ["backendId"]));
    const edges = await Promise.all(
      page.value.objects.map(async (object) => {
        const url = await presignDownload(session, backend.awsRegion, { bucket: backend.awsBucket, key: object.key, scopePrefix: scope, expiresSeconds: DOWNLOAD_URL_SECONDS });
        if (!url.ok) throw new AwsQueryError(awsUserError(url.error, ["prefix"]));
        const node = { key: object.key.slice(scope.length), size: object.size, lastModified: object.lastModified ?? new Date(0), downloadUrl: url.value };
        return { cursor: opaqueAwsCursor(object.key, fingerprint), node };
      }),
    );
    return {
      edges,
      pageInfo: {
        hasNextPage: page.value.nextToken !== undefined,
        hasPreviousPage: Boolean(query.after),
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }
}

// The AWS SDK, loaded on first use. Its packages cost about a second and 140 MiB to import, and a
// server that makes no AWS call should pay neither, so nothing else in src/ imports an
// `@aws-sdk/*` or `@smithy/*` package except with `import type`: values come from these loaders
// (test/architecture/lazy-sdk.test.ts holds the line). Each loader imports its package once and
// hands every caller the same module, so classes (and `instanceof`) are the SDK's own.
import type { AwsServiceName } from "./iam-actions.js";

/** `load` run once, its promise shared by every caller; a failed load is tried again by the next caller. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/** Each service's client package: its client class, commands and paginators. */
export const sdk = {
  sts: once(() => import("@aws-sdk/client-sts")),
  s3: once(() => import("@aws-sdk/client-s3")),
  ec2: once(() => import("@aws-sdk/client-ec2")),
  iam: once(() => import("@aws-sdk/client-iam")),
  secretsmanager: once(() => import("@aws-sdk/client-secrets-manager")),
  logs: once(() => import("@aws-sdk/client-cloudwatch-logs")),
  pricing: once(() => import("@aws-sdk/client-pricing")),
} satisfies Record<AwsServiceName, () => Promise<object>>;

export type AwsSdkOf<S extends AwsServiceName> = Awaited<ReturnType<(typeof sdk)[S]>>;

/** Presigned URLs (S3 artifacts). */
export const s3RequestPresigner = once(() => import("@aws-sdk/s3-request-presigner"));

/** The default credential chain (environment, profile, instance role). */
export const credentialProviders = once(() => import("@aws-sdk/credential-providers"));

/** The HTTP handler every client shares. */
export const nodeHttpHandler = once(() => import("@smithy/node-http-handler"));

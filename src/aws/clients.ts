// One place that builds AWS SDK clients. Every AWS call in the service goes through a client
// from here, so endpoint, timeouts, retries and call recording are set once and consistently.
import { createHash } from "node:crypto";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { PricingClient } from "@aws-sdk/client-pricing";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { LRUCache } from "lru-cache";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { recordedParameters } from "./call-parameters.js";
import { iamActionFor, operationName, resourceArnFor, targetOf, type AwsServiceName } from "./iam-actions.js";

export type { AwsServiceName } from "./iam-actions.js";

export type AwsCredentialSource =
  | { mode: "DEFAULT" }
  | { mode: "ACCESS_KEY"; accessKeyId: string; secretAccessKey: string };

const CLIENT_CLASSES = {
  sts: STSClient,
  s3: S3Client,
  ec2: EC2Client,
  iam: IAMClient,
  secretsmanager: SecretsManagerClient,
  logs: CloudWatchLogsClient,
  pricing: PricingClient,
} as const;

export type AwsClientOf<S extends AwsServiceName> = InstanceType<(typeof CLIENT_CLASSES)[S]>;

/** One logical SDK call (retries of it are not repeated here), as seen by `middleware`. */
export interface AwsCallRecord {
  service: AwsServiceName;
  region: string;
  /** Operation name without the "Command" suffix, e.g. "ListBuckets". */
  operation: string;
  /** The IAM action it needs, e.g. "s3:ListAllMyBuckets". */
  action: string;
  /** Resource ARN when derivable from the input alone (S3 buckets and objects, secret ARNs). */
  resource?: string;
  /** Main identifier from the input (bucket, secret name, role, subnet ids…). Never a secret value. */
  target?: string;
  /** The request's parameters as sent, secrets and payloads withheld (recordedParameters). */
  parameters: Record<string, unknown>;
}

/** Runs before every SDK call of every client from the factory; throwing fails the call. */
export type AwsCallMiddleware = (call: AwsCallRecord) => void | Promise<void>;

export interface AwsClientFactoryOptions {
  /** Endpoint for every service (moto, LocalStack, a proxy). Defaults to $AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Observes (or fails) each call; tests use it to record action, region and resource. */
  middleware?: AwsCallMiddleware;
  /** Most clients kept; the least recently used is dropped beyond this. Default 200. */
  maxClients?: number;
  /** Attempts per call including the first. Default 3. */
  maxAttempts?: number;
  /** Default 3000 ms: a TCP connect to AWS takes milliseconds; longer means unreachable. */
  connectionTimeoutMs?: number;
  /** Default 10000 ms per attempt: discovery is interactive, so a hung call must fail, not wait forever. */
  requestTimeoutMs?: number;
}

export interface AwsClientFactory {
  /** A client for (service, region, credentials); the same instance is returned for the same triple. */
  client<S extends AwsServiceName>(service: S, region: string, credentials: AwsCredentialSource): AwsClientOf<S>;
  readonly endpoint: string | undefined;
  /** Number of cached clients (for tests and metrics). */
  size(): number;
  /** Closes the shared connection pool; the factory must not be used afterwards. */
  destroy(): void;
}

/**
 * Cache key for a client. The secret goes through SHA-256 so the raw secret is never a map key
 * (keys show up in heap snapshots and debug dumps).
 */
export function clientCacheKey(service: AwsServiceName, region: string, credentials: AwsCredentialSource): string {
  const identity =
    credentials.mode === "DEFAULT" ? "DEFAULT" : `ACCESS_KEY\0${credentials.accessKeyId}\0${credentials.secretAccessKey}`;
  return createHash("sha256").update(`${service}\0${region}\0${identity}`).digest("hex");
}

export function createAwsClientFactory(options: AwsClientFactoryOptions = {}): AwsClientFactory {
  const endpoint = options.endpoint ?? (process.env.AWS_ENDPOINT_URL || undefined);
  // Dropped clients are not destroyed: the shared handler owns the sockets, and a caller may still hold one.
  const cache = new LRUCache<string, AwsClientOf<AwsServiceName>>({ max: options.maxClients ?? 200 });
  // One handler (and so one keep-alive pool) for all clients: evicting a client never has to
  // close sockets that another in-flight call might be using, and the socket count stays bounded.
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
    throwOnRequestTimeout: true,
  });
  let defaultProvider: AwsCredentialIdentityProvider | undefined;

  function credentialsFor(source: AwsCredentialSource) {
    if (source.mode === "ACCESS_KEY") {
      return { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey };
    }
    // One chain for the whole factory: it caches what it resolves and refreshes before expiry,
    // so clients for many regions do not each hit IMDS or read ~/.aws again.
    defaultProvider ??= fromNodeProviderChain();
    return defaultProvider;
  }

  function build<S extends AwsServiceName>(service: S, region: string, source: AwsCredentialSource): AwsClientOf<S> {
    const ClientClass = CLIENT_CLASSES[service] as unknown as new (config: Record<string, unknown>) => AwsClientOf<S>;
    const client = new ClientClass({
      region,
      credentials: credentialsFor(source),
      requestHandler,
      ...(endpoint ? { endpoint } : {}),
      // "standard": exponential backoff with jitter, plus a retry quota that stops retrying when
      // most calls fail, so an outage does not triple our load. Not "adaptive": its client-side
      // rate limiter delays later calls after one throttle, which makes interactive latency
      // unpredictable; our call volume is small and bursty. 3 attempts bounds the worst case.
      retryMode: "standard",
      maxAttempts: options.maxAttempts ?? 3,
      ...(service === "s3"
        ? {
            // Local endpoints have no per-bucket DNS names (bucket.127.0.0.1 does not resolve).
            forcePathStyle: Boolean(endpoint),
            // A call for a bucket in another region gets a 301 from AWS; retry it there instead of failing.
            followRegionRedirects: true,
          }
        : {}),
    });
    if (options.middleware) addCallMiddleware(client, service, region, options.middleware);
    return client;
  }

  return {
    endpoint,
    client(service, region, credentials) {
      const key = clientCacheKey(service, region, credentials);
      const cached = cache.get(key);
      if (cached) return cached as AwsClientOf<typeof service>;
      const client = build(service, region, credentials);
      cache.set(key, client);
      return client;
    },
    size: () => cache.size,
    destroy() {
      cache.clear();
      requestHandler.destroy();
    },
  };
}

type MiddlewareStackLike = {
  middlewareStack: {
    add(
      middleware: (next: (args: { input: object }) => Promise<unknown>, context: { commandName?: string }) => (
        args: { input: object },
      ) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ): void;
  };
};

function addCallMiddleware(client: object, service: AwsServiceName, region: string, middleware: AwsCallMiddleware) {
  (client as MiddlewareStackLike).middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = context.commandName ?? "Unknown";
      const input = args.input as Record<string, unknown>;
      await middleware({
        service,
        region,
        operation: operationName(commandName),
        action: iamActionFor(service, commandName),
        resource: resourceArnFor(service, commandName, input),
        target: targetOf(input),
        parameters: recordedParameters(input),
      });
      return next(args);
    },
    // "initialize" runs once per call, before retries, so one logical call is one record.
    { step: "initialize", name: "backendHubCallMiddleware" },
  );
}

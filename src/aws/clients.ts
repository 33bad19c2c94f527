// One place that builds AWS SDK clients. Every AWS call in the service goes through a client
// from here, so endpoint, timeouts, retries and call recording are set once and consistently.
import { createHash } from "node:crypto";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { PricingClient } from "@aws-sdk/client-pricing";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { STSClient } from "@aws-sdk/client-sts";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { LRUCache } from "lru-cache";
import { recordedParameters } from "./call-parameters.js";
import { callOutcome, classifyAwsError, type AwsCallOutcome } from "./errors.js";
import { iamActionFor, operationName, resourceArnFor, targetOf, type AwsServiceName } from "./iam-actions.js";
import { credentialProviders, nodeHttpHandler, sdk, type AwsSdkOf } from "./sdk.js";

export type { AwsServiceName } from "./iam-actions.js";

export type AwsCredentialSource =
  | { mode: "DEFAULT" }
  | { mode: "ACCESS_KEY"; accessKeyId: string; secretAccessKey: string };

interface AwsClients {
  sts: STSClient;
  s3: S3Client;
  ec2: EC2Client;
  iam: IAMClient;
  secretsmanager: SecretsManagerClient;
  logs: CloudWatchLogsClient;
  pricing: PricingClient;
}

export type AwsClientOf<S extends AwsServiceName> = AwsClients[S];

/** Each service's client class, in its package (sdk.ts) under this name. */
const CLIENT_CLASS_NAMES = {
  sts: "STSClient",
  s3: "S3Client",
  ec2: "EC2Client",
  iam: "IAMClient",
  secretsmanager: "SecretsManagerClient",
  logs: "CloudWatchLogsClient",
  pricing: "PricingClient",
} as const satisfies { [S in AwsServiceName]: keyof AwsSdkOf<S> };

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

/** What an observer learns of a call: no input, no parameters. */
export type AwsCallSummary = Pick<AwsCallRecord, "service" | "region" | "operation" | "action">;

/** Runs after every SDK call (its retries included) with how it ended and how long it took (metrics). */
export type AwsCallObserver = (call: AwsCallSummary, outcome: AwsCallOutcome, seconds: number) => void;

export interface AwsClientFactoryOptions {
  /** Endpoint for every service (moto, LocalStack, a proxy). Defaults to $AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Observes (or fails) each call; tests use it to record action, region and resource. */
  middleware?: AwsCallMiddleware;
  /** Sees how each call ended; must not throw. */
  observer?: AwsCallObserver;
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
  /**
   * A client for (service, region, credentials); the same instance is returned for the same triple.
   * Async because the first client of a service loads its SDK package (sdk.ts).
   */
  client<S extends AwsServiceName>(service: S, region: string, credentials: AwsCredentialSource): Promise<AwsClientOf<S>>;
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
  // Made with the first client, as is the default credential chain.
  let requestHandler: NodeHttpHandler | undefined;
  let defaultProvider: AwsCredentialIdentityProvider | undefined;

  /** Loads what a client of `service` with `source` needs; returns its client class. */
  async function load<S extends AwsServiceName>(service: S, source: AwsCredentialSource) {
    const [module, http, providers] = await Promise.all([
      sdk[service]() as Promise<Record<string, unknown>>,
      nodeHttpHandler(),
      source.mode === "DEFAULT" ? credentialProviders() : undefined,
    ]);
    requestHandler ??= new http.NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    });
    // One chain for the whole factory: it caches what it resolves and refreshes before expiry,
    // so clients for many regions do not each hit IMDS or read ~/.aws again.
    if (providers) defaultProvider ??= providers.fromNodeProviderChain();
    return module[CLIENT_CLASS_NAMES[service]] as new (config: Record<string, unknown>) => AwsClientOf<S>;
  }

  function credentialsFor(source: AwsCredentialSource) {
    return source.mode === "ACCESS_KEY" ? { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey } : defaultProvider;
  }

  function build<S extends AwsServiceName>(ClientClass: new (config: Record<string, unknown>) => AwsClientOf<S>, service: S, region: string, source: AwsCredentialSource): AwsClientOf<S> {
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
    if (options.middleware || options.observer) addCallMiddleware(client, service, region, options.middleware, options.observer);
    return client;
  }

  return {
    endpoint,
    async client<S extends AwsServiceName>(service: S, region: string, credentials: AwsCredentialSource) {
      const key = clientCacheKey(service, region, credentials);
      const cached = cache.get(key);
      if (cached) return cached as AwsClientOf<S>;
      const ClientClass = await load(service, credentials);
      // A concurrent first call may have built it while this one waited for the load.
      const built = cache.get(key);
      if (built) return built as AwsClientOf<S>;
      const client = build(ClientClass, service, region, credentials);
      cache.set(key, client);
      return client;
    },
    size: () => cache.size,
    destroy() {
      cache.clear();
      requestHandler?.destroy();
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

function addCallMiddleware(client: object, service: AwsServiceName, region: string, middleware?: AwsCallMiddleware, observer?: AwsCallObserver) {
  (client as MiddlewareStackLike).middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = context.commandName ?? "Unknown";
      const input = args.input as Record<string, unknown>;
      const call: AwsCallSummary = { service, region, operation: operationName(commandName), action: iamActionFor(service, commandName) };
      if (middleware) {
        await middleware({
          ...call,
          resource: resourceArnFor(service, commandName, input),
          target: targetOf(input),
          parameters: recordedParameters(input),
        });
      }
      if (!observer) return next(args);
      const started = performance.now();
      try {
        const output = await next(args);
        observer(call, "ok", (performance.now() - started) / 1000);
        return output;
      } catch (error) {
        observer(call, callOutcome(classifyAwsError(error, service, commandName)), (performance.now() - started) / 1000);
        throw error;
      }
    },
    // "initialize" runs once per call, before retries, so one logical call is one record.
    { step: "initialize", name: "backendHubCallMiddleware" },
  );
}

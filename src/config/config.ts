// Configuration from the environment, validated once at start-up. A bad value stops the
// server with a message that names the variable, never with a stack trace.
import path from "node:path";
import { z } from "zod";
import { parseTrustProxy } from "../http/client-address.js";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((value) => ["true", "1", "yes", "on"].includes(value));

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./.data"),
  ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ENCRYPTION_KEYS: z.string().optional(),
  AWS_DEFAULT_CREDENTIALS: z.enum(["enabled", "disabled"]).default("enabled"),
  AWS_ENDPOINT_URL: z.url().optional(),
  PLAYGROUND: booleanFlag.default(true),
  INTROSPECTION: booleanFlag.default(true),
  DEBUG_ERRORS: booleanFlag.default(false),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  SSH_INGRESS_CIDRS: z
    .string()
    .default("0.0.0.0/0")
    .refine((value) => value.split(",").every((cidr) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr.trim())), "must be a comma-separated list of IPv4 CIDRs"),
  /**
   * Which proxies in front of the server to believe about the client's address (X-Forwarded-For):
   * none (unset, the default), a hop count, or a comma-separated list of addresses and CIDRs.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value, context) => {
      const parsed = parseTrustProxy(value);
      if (typeof parsed === "string") {
        context.addIssue({ code: "custom", message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  /** Failed authentications allowed per client address per minute. */
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(1).default(30),
  /** Mutations that call AWS allowed per token, and per client address, per minute. */
  RATE_LIMIT_AWS_MUTATIONS: z.coerce.number().int().min(1).default(120),
  /** How often instance states are refreshed from EC2 (0: never). */
  INSTANCE_SYNC_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  /** Total time a launch keeps retrying IAM propagation and transient errors with its ClientToken. */
  LAUNCH_RETRY_SECONDS: z.coerce.number().min(0).max(600).default(120),
  /** First delay between those retries (doubling, capped at 15 s). */
  LAUNCH_RETRY_INITIAL_MS: z.coerce.number().int().min(1).max(60_000).default(2_000),
  /** false: this replica serves the API but executes no provisioning runs. */
  PROVISIONING_WORKER: booleanFlag.default(true),
  /**
   * Provisioning runs one replica executes at once. A run spends nearly all its time waiting on
   * AWS, so runs overlap well; each holds no connection of its own (one shared connection holds
   * every run's lock), only brief queries from the pool.
   */
  PROVISIONING_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(20),
  /** A run's job is considered abandoned (its process died) after this long; then it resumes elsewhere. */
  RUN_JOB_EXPIRE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** How often abandoned run jobs are looked for. */
  JOB_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  /** How often each provisioned backend is reconciled with AWS (orphans, gone instances, time limits, drift, credentials); 0: never. */
  RECONCILE_SECONDS: z.coerce.number().min(0).max(86_400).default(60),
  /** An instance running in EC2 without a live record is terminated once it has run this long (protects launches in flight). */
  ORPHAN_GRACE_SECONDS: z.coerce.number().min(0).max(7 * 86_400).default(600),
  /** Tries of one provisioning step on throttling, 5xx, timeouts or IAM propagation delay. */
  STEP_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** Audit events older than this many days are pruned (the chain stays verifiable from the oldest kept). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  /** Serves GET /metrics to `Authorization: Bearer <METRICS_TOKEN>`; unset: no /metrics (404). */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});

export type Config = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {}

/** Parses `env` (defaults to process.env); throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.DATA_DIR) };
}

// Configuration from the environment, validated once at start-up. A bad value stops the
// server with a message that names the variable, never with a stack trace.
import path from "node:path";
import { z } from "zod";

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
  SSH_INGRESS_CIDRS: z.string().default("0.0.0.0/0"),
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

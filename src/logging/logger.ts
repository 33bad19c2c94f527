// Structured JSON logs. Anything that could carry a secret is redacted by path, so a careless
// log call cannot print a token or an AWS secret key.
import { pino, type Logger } from "pino";

export const REDACTED_PATHS = [
  "req.headers.authorization",
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "secretAccessKey",
  "*.secretAccessKey",
  "*.*.secretAccessKey",
  "variables.*.credentials.secretAccessKey",
  "variables.input.value",
  "sealedCredentials",
  "*.sealedCredentials",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { service: "backend-hub" } },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };

// One JSON log line per request with its id, method, path, status and duration. Headers and
// bodies are never logged (they carry tokens and secrets).
import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "../logging/logger.js";

export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.headers["x-request-id"];
    const requestId = (typeof header === "string" && /^[\w.-]{1,100}$/.test(header) && header) || randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    next();
  };
}

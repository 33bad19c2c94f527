// One JSON log line per request with its id, method, path, status and duration. Headers and
// bodies are never logged (they carry tokens and secrets).
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { RequestHandler } from "express";
import type { Logger } from "../logging/logger.js";

/** The caller's X-Request-Id when it is a sane one, else a new id. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const header = headers["x-request-id"];
  return (typeof header === "string" && /^[\w.-]{1,100}$/.test(header) && header) || randomUUID();
}

export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    // Read now: routers mounted on a path (app.use("/graphql", …)) strip it from req.path while
    // they handle the request, which is when the response usually finishes.
    const path = req.path;
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    next();
  };
}

// GET /metrics: Prometheus text format, only when METRICS_TOKEN is set (otherwise the path does
// not exist: 404), and only for `Authorization: Bearer <METRICS_TOKEN>` (otherwise 401).
import { createHash, timingSafeEqual } from "node:crypto";
import { Router } from "express";
import type { Metrics } from "./metrics.js";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function metricsRoute(metrics: Metrics, token: string | undefined): Router {
  const router = Router();
  if (!token) return router;
  const expected = digest(token);
  router.get("/metrics", async (req, res) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
    // Digests of equal length, compared in constant time: the answer time says nothing about the token.
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      res.status(401).set("WWW-Authenticate", 'Bearer realm="metrics"').type("text/plain").send("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n");
      return;
    }
    res.set("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

// /healthz: the process answers. /readyz: the database answers and every migration is applied.
import { Router } from "express";
import { migrationsApplied } from "../db/migrate.js";
import type { Database } from "../db/prisma.js";

export function healthRoutes(database: Database): Router {
  const router = Router();
  let migrationsKnownApplied = false;
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    try {
      migrationsKnownApplied ||= await migrationsApplied(database.pool);
      if (!migrationsKnownApplied) throw new Error("migrations pending");
      await database.pool.query("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable", reason: "database unreachable or migrations pending" });
    }
  });
  return router;
}

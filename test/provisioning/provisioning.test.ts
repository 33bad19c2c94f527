import { describe, expect, it } from "vitest";
import { createSeedBackend, useMoto, useServer } from "../support/fixtures.js";
import { PROVISION, TEARDOWN, waitForRun } from "./support.js";

describe("provisioning through GraphQL", () => {
  const moto = useMoto();
  const t = useServer({}, { aws: moto });

  it("provisions a backend step by step to READY, and tears down to CONFIGURED", async () => {
    const { backendId } = await createSeedBackend(t.admin, moto.endpoint, { bucket: "prov-e2e" });
    const started = await t.admin.ok(PROVISION, { id: backendId });
    expect(started.provisionBackend.userErrors).toEqual([]);
    expect(started.provisionBackend.run.steps.map((s: any) => s.name)).toEqual([
      "iam-policy",
      "iam-role",
      "instance-profile",
      "security-group",
      "log-groups",
      "bucket-lifecycle",
    ]);
    const run = await waitForRun(t.admin, started.provisionBackend.run.id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.steps.every((s: any) => s.status === "DONE" && s.attempts >= 1)).toBe(true);
    expect(run.backend.status).toBe("READY");

    const lastRun = await t.admin.ok(`query($id: ID!) { backend(id: $id) { status lastRun { id status } } }`, { id: backendId });
    expect(lastRun.backend.lastRun).toEqual({ id: run.id, status: "SUCCEEDED" });

    const teardown = await t.admin.ok(TEARDOWN, { id: backendId });
    const finished = await waitForRun(t.admin, teardown.teardownBackend.run.id);
    // moto enforces no IAM here, so the delete actions (beyond the seed's policy) are allowed.
    expect(finished.error).toBeNull();
    expect(finished.status).toBe("SUCCEEDED");
    expect(finished.backend.status).toBe("CONFIGURED");
  });
});

// Dependencies in src/ point one way: resolvers → capabilities → aws, db and the platform
// (docs/architecture.md). This walks the real import graph and fails on a violation.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { capabilityCycle, importEdges, violation, type ImportEdge } from "./dependency-rules.js";

const SRC = path.resolve(import.meta.dirname, "../../src");

describe("the dependency rule", () => {
  const edges = importEdges(SRC);

  it("reads the import graph", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual(expect.objectContaining({ from: "resolvers/backend.resolver.ts" }));
  });

  it("has no import that points the wrong way", () => {
    const broken = edges.flatMap((edge) => {
      const why = violation(edge);
      return why ? [`${edge.from} → ${edge.to}: ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("has no circle between capabilities", () => {
    expect(capabilityCycle(edges)).toBeNull();
  });

  it("catches the violations it exists for", () => {
    const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly });
    expect(violation(edge("aws/provisioning/iam.ts", "provisioning/step.ts"))).toMatch(/aws .* must not import capability/);
    expect(violation(edge("aws/discovery.ts", "db/prisma.ts"))).toMatch(/must not import platform/);
    expect(violation(edge("resolvers/backend.resolver.ts", "aws/regions.ts"))).toMatch(/edge .* must not import aws/);
    expect(violation(edge("compute/instances.service.ts", "resolvers/instance.resolver.ts"))).toMatch(/capability .* must not import edge/);
    expect(violation(edge("jobs/run-queue.ts", "provisioning/run-executor.ts"))).toMatch(/platform .* must not import capability/);
    expect(violation(edge("graphql/context.ts", "server/services.ts"))).toMatch(/must not import root/);
    expect(violation(edge("billing/billing.service.ts", "db/prisma.ts"))).toMatch(/has no layer/);
    expect(capabilityCycle([edge("compute/a.ts", "backends/b.ts"), edge("backends/b.ts", "compute/c.ts")])).toEqual(["compute", "backends", "compute"]);
    // Allowed directions.
    expect(violation(edge("aws/provisioning/iam.ts", "errors/step-errors.ts"))).toBeNull();
    expect(violation(edge("graphql/context.ts", "server/services.ts", true))).toBeNull();
    expect(violation(edge("compute/instances.service.ts", "provisioning/index.ts"))).toBeNull();
  });
});

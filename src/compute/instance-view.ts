// Instances as the API and live updates show them.
import type { Instance } from "../generated/prisma/client.js";

export type InstanceView = Omit<Instance, "clientToken" | "updatedAt" | "terminationRequestedAt">;

export function toInstanceView(row: Instance): InstanceView {
  const { clientToken: _token, updatedAt: _updated, terminationRequestedAt: _requested, ...view } = row;
  return view;
}

export function instanceViewFromJson(json: unknown): InstanceView {
  const view = json as Record<string, unknown>;
  view.createdAt = new Date(String(view.createdAt));
  view.terminatedAt = view.terminatedAt ? new Date(String(view.terminatedAt)) : null;
  return view as unknown as InstanceView;
}

export const isFinalInstance = (view: InstanceView) => view.status === "TERMINATED" || view.status === "FAILED";

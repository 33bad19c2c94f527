// backendUpdated events carry the backend row without its sealed credentials (events travel
// through PostgreSQL NOTIFY; nothing secret, sealed or not, goes there).
import type { Backend } from "../generated/prisma/client.js";

export type BackendEventPayload = Backend;

export const backendEvent = (row: Backend): BackendEventPayload => ({ ...row, sealedCredentials: null });

export function backendFromEvent(json: unknown): Backend {
  const row = json as Record<string, unknown>;
  const date = (value: unknown) => (value ? new Date(String(value)) : null);
  return { ...row, createdAt: date(row.createdAt), updatedAt: date(row.updatedAt), lastReconciledAt: date(row.lastReconciledAt) } as unknown as Backend;
}

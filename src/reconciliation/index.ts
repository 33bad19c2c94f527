// The reconciliation capability as the composition root and the API see it.
export { Reconciler, type ReconcilerSettings, type PassOutcome } from "./reconciler.js";
export { ReconcileScheduler } from "./scheduler.js";
export { ReconciliationService, type ReconcileResult } from "./reconciliation.service.js";
export { markGone } from "./instance-records.js";
export { expiresAt } from "./time-limits.js";
export type { FindingView } from "./findings.js";
export type { ReconcilerEvent } from "./pass-context.js";
export { backendEvent, backendFromEvent } from "./backend-event.js";

// What the reconciler does reaches the operators twice: as audit rows (who: the reconciler; what:
// the operation and the ids it touched) and as the findings counter of /metrics.
import type { AuditLog } from "../audit/audit-log.js";
import type { Logger } from "../logging/logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ReconcilerEvent } from "../reconciliation/index.js";

export function reconcilerListeners(audit: AuditLog, metrics: Metrics, logger: Logger): ((event: ReconcilerEvent) => void)[] {
  return [
    (event) => {
      if (event.kind) metrics.recordReconcilerFinding(event.kind);
    },
    (event) => {
      const targetIds = [event.backendId, ...(/^[0-9a-f-]{36}$/i.test(event.resourceId) ? [event.resourceId] : [])];
      audit
        .record({ operation: event.operation, projectId: event.projectId, targetIds, outcome: "OK", codes: [event.kind, event.action].filter((code): code is NonNullable<typeof code> => Boolean(code)) })
        .catch((error) => logger.error({ err: error, operation: event.operation, backendId: event.backendId }, "audit log unavailable: reconciler action not recorded"));
    },
  ];
}

// Every mutation, whichever door it came through (HTTP or WebSocket), is recorded in two steps,
// as Vault does with its audit devices:
//
// 1. Before it runs, an intent row (AuditPending). If that cannot be written, the mutation does
//    not run: SERVICE_UNAVAILABLE, nothing changed. No mutation runs unrecorded.
// 2. After it ran, the outcome row is appended to the chain and the intent row removed, in one
//    transaction. If that cannot be written and the mutation succeeded, the caller gets
//    SERVICE_UNAVAILABLE saying the change may have been applied (AWS may already have acted: it
//    cannot be undone); a mutation that was refused or failed keeps its own answer. Either way
//    the intent row stays behind, and maintenance later records it as FAILED with the code
//    OUTCOME_UNKNOWN. A process that dies mid-mutation leaves the same trace.
import { ServiceUnavailableError } from "../errors/errors.js";
import type { Logger } from "../logging/logger.js";
import type { AuditStore } from "./audit-store.js";
import { outcomeOfError, outcomeOfPayload, type Outcome } from "./outcomes.js";
import { idsIn, projectIdIn, union } from "./targets.js";

/** The caller of a mutation as the log names them: never the token, only its display prefix. */
export interface AuditActor {
  userId: string;
  tokenPrefix: string;
}

export interface MutationCall {
  /** The root field, e.g. "createAwsBackend". */
  operation: string;
  actor: AuditActor;
  clientAddress: string;
  requestId: string;
  /** The field's arguments: only UUIDs under id-like keys are taken from them. */
  args: Record<string, unknown>;
}

export class AuditUnavailableError extends ServiceUnavailableError {}

export async function auditedMutation<T>(store: AuditStore, logger: Logger, call: MutationCall, execute: () => Promise<T>): Promise<T> {
  const argumentIds = idsIn(call.args);
  const base = {
    actorId: call.actor.userId,
    tokenPrefix: call.actor.tokenPrefix,
    clientAddress: call.clientAddress,
    operation: call.operation,
    requestId: call.requestId,
  };
  let pending: { id: string; projectId: string | null };
  try {
    pending = await store.begin({ ...base, projectId: projectIdIn(call.args), targetIds: argumentIds });
  } catch (error) {
    logger.error({ err: error, operation: call.operation, requestId: call.requestId }, "audit log unavailable: mutation refused");
    throw new AuditUnavailableError(`The audit log cannot be written, so ${call.operation} was not run; nothing changed. Retry shortly.`);
  }

  let result: { value: T } | { error: unknown };
  let outcome: Outcome;
  try {
    const value = await execute();
    result = { value };
    outcome = outcomeOfPayload(value);
  } catch (error) {
    result = { error };
    outcome = outcomeOfError(error);
  }
  const payload = "value" in result ? result.value : undefined;
  try {
    await store.complete(pending.id, {
      ...base,
      projectId: pending.projectId ?? projectIdIn(payload),
      targetIds: union(argumentIds, idsIn(payload)),
      ...outcome,
    });
  } catch (error) {
    logger.error({ err: error, operation: call.operation, requestId: call.requestId, pendingId: pending.id, outcome: outcome.outcome }, "audit log unavailable: outcome not recorded");
    // One that was refused or failed anyway keeps its own answer (it says what went wrong); one
    // that went through must not report success unrecorded.
    if (outcome.outcome === "OK") {
      throw new AuditUnavailableError(
        `${call.operation} ran, but its outcome could not be written to the audit log, so it is reported as failed: the change may have been applied. Check before retrying.`,
      );
    }
  }
  if ("error" in result) throw result.error;
  return result.value;
}

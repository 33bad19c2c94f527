// How provisioning turns AWS failures, classified once in ../errors.ts, into step errors. Nothing
// here rethrows an SDK error: every failure becomes a PermanentStepError (the user must change
// something: a permission, a parameter) or a TransientStepError (worth retrying: throttling, 5xx,
// IAM still propagating). Messages are written from the classified failure (code, action), never
// copied from AWS.
import type { AwsServiceName } from "../clients.js";
import { attempt, isInvalidParameter, isQuotaExceeded, type AwsFailure, type AwsResult } from "../errors.js";
import { PermanentStepError, TransientStepError } from "../../errors/step-errors.js";

/** What a call is about, for messages: "creating IAM role dstack_role_x". */
export interface CallDescription {
  /** e.g. "creating IAM role dstack_role_x". */
  doing: string;
  /** The input behind an invalid-parameter error, e.g. 'subnetId "subnet-123"'. */
  parameter?: string;
  /** What stays in the account when this call fails during teardown, e.g. "IAM role dstack_role_x". */
  leftBehind?: string;
}

export function accessDeniedMessage(action: string, description: CallDescription): string {
  return (
    `The backend's AWS credentials are not allowed to perform ${action} (${description.doing}); ` +
    `grant ${action} to the backend's IAM user.${leftBehindSuffix(description)}`
  );
}

/** A missing permission: keeps what the message is built from, so failures can be merged. */
export class AccessDeniedStepError extends PermanentStepError {
  constructor(
    action: string,
    readonly description: CallDescription,
  ) {
    super(accessDeniedMessage(action, description), action);
  }
}

function leftBehindSuffix(description: CallDescription): string {
  return description.leftBehind ? ` Left behind: ${description.leftBehind}.` : "";
}

/** The step error for a classified failure that the caller does not handle itself. */
export function stepErrorFor(failure: AwsFailure, description: CallDescription): PermanentStepError | TransientStepError {
  const status = failure.httpStatus ? `, HTTP ${failure.httpStatus}` : "";
  switch (failure.kind) {
    case "ACCESS_DENIED":
      return new AccessDeniedStepError(failure.action, description);
    case "INVALID_CREDENTIALS":
    case "NO_CREDENTIALS":
      return new PermanentStepError(
        `${failure.message} AWS refused ${failure.operation} while ${description.doing}; update the backend's credentials.${leftBehindSuffix(description)}`,
      );
    case "TRANSIENT":
      return new TransientStepError(`${failure.message} (${description.doing})`);
    default:
      break;
  }
  if (isInvalidParameter(failure)) {
    const parameter = description.parameter ? `check ${description.parameter}` : `check the values sent to ${failure.operation}`;
    return new PermanentStepError(
      `AWS rejected ${failure.operation} (${failure.code}${status}) while ${description.doing}: invalid parameter; ${parameter}.${leftBehindSuffix(description)}`,
    );
  }
  if (isQuotaExceeded(failure)) {
    return new PermanentStepError(
      `AWS refused ${failure.operation} (${failure.code}) while ${description.doing}: an account quota is reached; raise it or free some resources.${leftBehindSuffix(description)}`,
    );
  }
  return new PermanentStepError(
    `AWS rejected ${failure.operation} (${failure.code}${status}) while ${description.doing}.${leftBehindSuffix(description)}`,
  );
}

/** A call's result, with how many HTTP attempts the SDK made (its own retries included). */
export type CallResult<T> = AwsResult<T> & { attempts: number };

/**
 * Runs one SDK call. Failures that `handled` accepts come back as `{ ok: false }` for the caller
 * to act on (e.g. NoSuchEntity on a Get, EntityAlreadyExists on a Create); every other failure is
 * thrown as a step error. `attempts` > 1 on a Create's "already exists" means an earlier attempt
 * of this very call may have created it (its response was lost and the SDK retried).
 */
export async function awsCall<T>(
  service: AwsServiceName,
  operation: string,
  description: CallDescription,
  call: () => Promise<T>,
  handled: (failure: AwsFailure) => boolean = () => false,
): Promise<CallResult<T>> {
  let attempts = 1;
  const result = await attempt(service, operation, async () => {
    try {
      const output = await call();
      attempts = (output as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
      return output;
    } catch (error) {
      attempts = (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
      throw error;
    }
  });
  if (!result.ok && !handled(result.error)) throw stepErrorFor(result.error, description);
  return { ...result, attempts };
}

/** Like awsCall, when no failure is expected: the value, or a thrown step error. */
export async function awsValue<T>(service: AwsServiceName, operation: string, description: CallDescription, call: () => Promise<T>): Promise<T> {
  const result = await awsCall(service, operation, description, call);
  return (result as { ok: true; value: T }).value;
}

/** The step stops at a safe point when the server is shutting down; the run resumes on restart. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new TransientStepError("The server is stopping; the step resumes where it left off.");
}

/** Several independent teardown failures as one step error: transient if any could pass on its own. */
export function combineStepErrors(errors: (PermanentStepError | TransientStepError)[]): PermanentStepError | TransientStepError {
  if (errors.length === 1) return errors[0];
  // The same permission missing for several resources: one sentence, everything left behind listed.
  const first = errors[0];
  if (first instanceof AccessDeniedStepError && errors.every((e) => e instanceof AccessDeniedStepError && e.action === first.action)) {
    const denied = errors as AccessDeniedStepError[];
    const leftBehind = denied.map((e) => e.description.leftBehind).filter((l): l is string => Boolean(l));
    return new AccessDeniedStepError(first.action!, {
      doing: denied.map((e) => e.description.doing).join("; "),
      ...(leftBehind.length ? { leftBehind: leftBehind.join(", ") } : {}),
    });
  }
  const message = errors.map((e) => e.message).join(" ");
  if (errors.some((e) => e instanceof TransientStepError)) return new TransientStepError(message);
  const action = errors.map((e) => (e as PermanentStepError).action).find((a) => a !== undefined);
  return new PermanentStepError(message, action);
}

/**
 * Adds to a missing-permission failure every action the step needs beyond the seed's policy, so
 * the user can grant them at once rather than discover them one failed retry at a time.
 */
export function withNeededActions(error: unknown, actions: readonly string[], what: string): unknown {
  if (!(error instanceof PermanentStepError) || !error.action || actions.length < 2 || !actions.includes(error.action)) return error;
  const list = actions.length === 2 ? actions.join(" and ") : `${actions.slice(0, -1).join(", ")} and ${actions.at(-1)}`;
  return new PermanentStepError(`${error.message} ${what} needs ${list}.`, error.action);
}

/** Runs `fn` and returns the step error it threw (or null); any other error propagates. */
export async function collectStepError(fn: () => Promise<void>): Promise<PermanentStepError | TransientStepError | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    if (error instanceof PermanentStepError || error instanceof TransientStepError) return error;
    throw error;
  }
}

// How a failed AWS call is classified for a provisioning step: retry it, or stop and tell the
// user what to fix. Thrown by src/aws/, handled by the run executor.

/**
 * A failure the step cannot get past by retrying: AccessDenied, an invalid parameter. The message
 * names the IAM action or the parameter, and is shown to the user as the step's message.
 */
export class PermanentStepError extends Error {
  constructor(
    message: string,
    /** IAM action to grant, when the cause is a missing permission. */
    readonly action?: string,
  ) {
    super(message);
  }
}

/**
 * A failure that may pass on its own: throttling, 5xx, timeouts, or IAM eventual consistency
 * (a role or profile created seconds ago not yet usable). The executor retries the step with
 * capped exponential backoff and jitter, within a bound.
 */
export class TransientStepError extends Error {}

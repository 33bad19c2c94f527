// Executes one provisioning run, step by step, persisting every transition and publishing it.
// Safe to call again after any interruption: finished steps are skipped. The caller (the run
// queue) holds the run's advisory lock, so only one process executes a run at a time.
import { randomUUID } from "node:crypto";
import pRetry, { AbortError } from "p-retry";
import type { Database } from "../db/prisma.js";
import { JobDeferredError } from "../jobs/run-queue.js";
import { isDatabaseUnavailable } from "../db/availability.js";
import type { Backend } from "../generated/prisma/client.js";
import type { Logger } from "../logging/logger.js";
import { backendTags, bucketNameUnderScore, toTagList } from "../aws/names.js";
import type { BackendsService } from "../backends/backends.service.js";
import type { BackendDeletion } from "../backends/backend-deletion.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { loadRunView, type RunView } from "./run-view.js";
import { PermanentStepError, TransientStepError } from "../errors/step-errors.js";
import type { ProvisioningStepDefinition, StepContext, StepOutcome } from "./step.js";
import { PROVISIONING_STEPS } from "./steps/index.js";

export interface ExecutorSettings {
  sshIngressCidrs: string[];
  /** Tries of one step on transient failures (throttling, 5xx, IAM propagation). */
  stepAttempts: number;
  /** Backoff bounds between those tries. */
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
}

/** The server is stopping; the run resumes from its current step elsewhere or after restart. */
export class RunInterruptedError extends JobDeferredError {}

export class RunExecutor {
  private readonly steps = new Map(PROVISIONING_STEPS.map((step) => [step.name, step]));

  constructor(
    private readonly database: Database,
    private readonly backends: BackendsService,
    private readonly deletion: BackendDeletion,
    private readonly publish: (run: RunView) => void,
    private readonly logger: Logger,
    private readonly settings: ExecutorSettings,
  ) {}

  private get prisma() {
    return this.database.prisma;
  }

  private async emit(runId: string): Promise<void> {
    const run = await loadRunView(this.prisma, runId);
    if (run) this.publish(run);
  }

  /** Executes the run from its current step; the caller holds the run's lock. */
  async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.prisma.provisioningRun.findUnique({ where: { id: runId }, include: { backend: true, steps: { orderBy: { position: "asc" } } } });
    if (!run || run.status === "SUCCEEDED" || run.status === "FAILED") return;
    await this.prisma.provisioningRun.update({ where: { id: runId }, data: { status: "RUNNING", startedAt: run.startedAt ?? new Date() } });
    await this.emit(runId);

    let context: StepContext;
    try {
      context = await this.context(run.backend, signal);
    } catch (error) {
      // Typically credentials that can no longer be opened (a retired encryption key).
      if (isDatabaseUnavailable(error)) throw error;
      await this.finish(run.backend, runId, run.kind, [`credentials: ${this.failureMessage(error, "credentials", runId)}`]);
      return;
    }
    const failures: string[] = [];
    for (const step of run.steps) {
      if (step.status === "DONE" || step.status === "SKIPPED") continue;
      if (signal.aborted) throw new RunInterruptedError(`run ${runId} interrupted before step ${step.name}`);
      const definition = this.steps.get(step.name);
      const failure = definition
        ? await this.executeStep(step.id, runId, definition, run.kind, context)
        : `unknown step "${step.name}"`;
      if (failure === undefined) continue;
      failures.push(`${step.name}: ${failure}`);
      // Provisioning stops at the first failure (later steps build on earlier ones); teardown goes
      // on, to remove as much as it can.
      if (run.kind === "PROVISION") break;
    }
    await this.finish(run.backend, runId, run.kind, failures);
  }

  /** Runs one step with bounded retries; returns the failure message, or undefined when it finished. */
  private async executeStep(stepId: string, runId: string, definition: ProvisioningStepDefinition, kind: string, context: StepContext): Promise<string | undefined> {
    await this.prisma.provisioningStep.update({ where: { id: stepId }, data: { status: "RUNNING", startedAt: new Date(), message: null } });
    try {
      const outcome = await pRetry(
        async () => {
          await this.prisma.provisioningStep.update({ where: { id: stepId }, data: { attempts: { increment: 1 } } });
          await this.emit(runId);
          try {
            return kind === "PROVISION" ? await definition.provision(context) : await definition.teardown(context);
          } catch (error) {
            if (error instanceof TransientStepError) throw error;
            throw new AbortError(error as Error);
          }
        },
        {
          retries: this.settings.stepAttempts - 1,
          minTimeout: this.settings.minRetryDelayMs,
          maxTimeout: this.settings.maxRetryDelayMs,
          factor: 2,
          randomize: true,
          signal: context.signal,
          onFailedAttempt: ({ error, attemptNumber }) => {
            this.logger.warn({ runId, step: definition.name, attempt: attemptNumber, reason: error.message }, "step attempt failed; retrying");
          },
        },
      );
      await this.completeStep(stepId, outcome);
      await this.emit(runId);
      return undefined;
    } catch (error) {
      if (context.signal.aborted) throw new RunInterruptedError(`run ${runId} interrupted during step ${definition.name}`);
      if (isDatabaseUnavailable(error)) throw error;
      const message = this.failureMessage(error, definition.name, runId);
      await this.prisma.provisioningStep.update({ where: { id: stepId }, data: { status: "FAILED", message, finishedAt: new Date() } });
      await this.emit(runId);
      return message;
    }
  }

  private failureMessage(error: unknown, step: string, runId: string): string {
    if (error instanceof PermanentStepError || (error instanceof Error && error.name === "SealedDataError")) return error.message;
    if (error instanceof TransientStepError) return `${error.message} (still failing after ${this.settings.stepAttempts} attempts; retry the run later)`;
    const correlationId = randomUUID();
    this.logger.error({ err: error, runId, step, correlationId }, "provisioning step failed unexpectedly");
    return `Internal error (correlation id ${correlationId}).`;
  }

  private async completeStep(stepId: string, outcome: StepOutcome): Promise<void> {
    await this.prisma.provisioningStep.update({
      where: { id: stepId },
      data: { status: outcome.skipped ? "SKIPPED" : "DONE", resourceId: outcome.resourceId ?? null, message: outcome.message ?? null, finishedAt: new Date() },
    });
  }

  private async finish(backend: Backend, runId: string, kind: string, failures: string[]): Promise<void> {
    let error: string | null = null;
    if (failures.length) {
      const left = await this.prisma.backendResource.findMany({ where: { backendId: backend.id }, select: { kind: true, identifier: true } });
      const leftBehind = kind === "TEARDOWN" && left.length ? ` Left behind: ${left.map((r) => `${r.kind} ${r.identifier}`).join(", ")}.` : "";
      error = `${failures.join("; ")}${leftBehind}`;
    }
    const backendStatus = failures.length ? "FAILED" : kind === "PROVISION" ? "READY" : "CONFIGURED";
    const deleteNext = await withBackendLock(this.prisma, backend.id, async (tx, now) => {
      // deleteBackend(teardown: true) deletes only after a teardown that succeeded; otherwise the
      // backend is usable again.
      const deleting = now.deleteRequestedAt !== null;
      const notDeleted = failures.length && deleting ? " The backend was not deleted." : "";
      await tx.provisioningRun.update({ where: { id: runId }, data: { status: failures.length ? "FAILED" : "SUCCEEDED", error: error && error + notDeleted, finishedAt: new Date() } });
      await tx.backend.update({ where: { id: backend.id }, data: { status: backendStatus, ...(failures.length ? { deleteRequestedAt: null } : {}) } });
      return deleting && !failures.length && kind === "TEARDOWN";
    });
    await this.emit(runId);
    this.logger.info({ runId, backendId: backend.id, kind, status: failures.length ? "FAILED" : "SUCCEEDED" }, "provisioning run finished");
    if (deleteNext) await this.deleteAfterTeardown(backend.id, runId);
  }

  private async deleteAfterTeardown(backendId: string, runId: string): Promise<void> {
    const deleted = await this.deletion.delete(backendId);
    if (deleted.userErrors.length === 0) {
      this.logger.info({ runId, backendId }, "backend deleted after its teardown");
    } else {
      // The backend stays, still marked: deleteBackend again finishes the deletion.
      this.logger.warn({ runId, backendId, problems: deleted.userErrors.map((e) => e.message) }, "backend torn down but not deleted");
    }
  }

  private async context(backend: Backend, signal: AbortSignal): Promise<StepContext> {
    const recorded = await this.prisma.backendResource.findMany({ where: { backendId: backend.id }, orderBy: { createdAt: "asc" } });
    const prisma = this.prisma;
    const context: StepContext = {
      backend: {
        id: backend.id,
        projectId: backend.projectId,
        region: backend.awsRegion,
        bucket: backend.awsBucket,
        bucketUnderscore: bucketNameUnderScore(backend.awsBucket),
        subnetId: backend.awsSubnetId,
      },
      session: this.backends.sessionFor(backend),
      tags: toTagList(backendTags({ bucket: backend.awsBucket, backendId: backend.id })),
      sshIngressCidrs: this.settings.sshIngressCidrs,
      recorded: recorded.map((r) => ({ kind: r.kind, identifier: r.identifier, details: r.details as Record<string, unknown> })),
      async record(resource) {
        await prisma.backendResource.upsert({
          where: { backendId_kind_identifier: { backendId: backend.id, kind: resource.kind, identifier: resource.identifier } },
          create: { backendId: backend.id, kind: resource.kind, identifier: resource.identifier, details: resource.details as object },
          update: {},
        });
        context.recorded.push(resource);
      },
      async forget(kind, identifier) {
        await prisma.backendResource.deleteMany({ where: { backendId: backend.id, kind, identifier } });
        context.recorded = context.recorded.filter((r) => !(r.kind === kind && r.identifier === identifier));
      },
      signal,
    };
    return context;
  }
}


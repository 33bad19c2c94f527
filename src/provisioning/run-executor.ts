// Executes one provisioning run, step by step, persisting every transition and publishing it.
// Safe to call again after any interruption: finished steps are skipped. The caller (the run
// queue) holds the run's advisory lock, so only one process executes a run at a time.
import { randomUUID } from "node:crypto";
import pRetry, { AbortError } from "p-retry";
import type { Database } from "../db/prisma.js";
import { JobDeferredError } from "../jobs/run-queue.js";
import { isDatabaseUnavailable } from "../db/availability.js";
import type { Backend, Prisma } from "../generated/prisma/client.js";
import type { Logger } from "../logging/logger.js";
import { backendTags, bucketNameUnderScore, toTagList } from "../aws/names.js";
import type { BackendsService } from "../backends/backends.service.js";
import type { BackendDeletion } from "../backends/backend-deletion.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { runFields, stepFields, type RunView } from "./run-view.js";
import { PermanentStepError, TransientStepError } from "../errors/step-errors.js";
import type { ProvisioningStepDefinition, StepContext } from "./step.js";
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

  /**
   * Publishes the run as it now is. The executor holds the run's lock, so nothing else changes the
   * run meanwhile: the view loaded at the start, kept up to date with the rows every update returns,
   * is what a fresh load would read, without two more statements per update (twenty runs at once
   * share one event loop and one pool).
   */
  private emit(view: RunView): void {
    this.publish({ ...view, steps: view.steps.map((step) => ({ ...step })) });
  }

  /** Executes the run from its current step; the caller holds the run's lock. */
  async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.prisma.provisioningRun.findUnique({ where: { id: runId }, include: { backend: true, steps: { orderBy: { position: "asc" } } } });
    if (!run || run.status === "SUCCEEDED" || run.status === "FAILED") return;
    const started = await this.prisma.provisioningRun.update({ where: { id: runId }, data: { status: "RUNNING", startedAt: run.startedAt ?? new Date() } });
    const view: RunView = { ...runFields(started), steps: run.steps.map(stepFields) };
    this.emit(view);

    let context: StepContext;
    try {
      context = await this.context(run.backend, signal);
    } catch (error) {
      // Typically credentials that can no longer be opened (a retired encryption key).
      if (isDatabaseUnavailable(error)) throw error;
      await this.finish(run.backend, view, run.kind, [`credentials: ${this.failureMessage(error, "credentials", runId)}`]);
      return;
    }
    const failures: string[] = [];
    for (const [index, step] of run.steps.entries()) {
      if (step.status === "DONE" || step.status === "SKIPPED") continue;
      if (signal.aborted) throw new RunInterruptedError(`run ${runId} interrupted before step ${step.name}`);
      const definition = this.steps.get(step.name);
      const failure = definition
        ? await this.executeStep(step.id, view, index, definition, run.kind, context)
        : `unknown step "${step.name}"`;
      if (failure === undefined) continue;
      failures.push(`${step.name}: ${failure}`);
      // Provisioning stops at the first failure (later steps build on earlier ones); teardown goes
      // on, to remove as much as it can.
      if (run.kind === "PROVISION") break;
    }
    await this.finish(run.backend, view, run.kind, failures);
  }

  /** Runs one step with bounded retries; returns the failure message, or undefined when it finished. */
  private async executeStep(stepId: string, view: RunView, index: number, definition: ProvisioningStepDefinition, kind: string, context: StepContext): Promise<string | undefined> {
    const runId = view.id;
    const updateStep = async (data: Prisma.ProvisioningStepUpdateInput) => {
      view.steps[index] = stepFields(await this.prisma.provisioningStep.update({ where: { id: stepId }, data }));
      this.emit(view);
    };
    try {
      let first = true;
      const outcome = await pRetry(
        async () => {
          // The step's start and its first attempt in one statement.
          await updateStep(first ? { status: "RUNNING", startedAt: new Date(), message: null, attempts: { increment: 1 } } : { attempts: { increment: 1 } });
          first = false;
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
      await updateStep({
        status: outcome.skipped ? "SKIPPED" : "DONE",
        resourceId: outcome.resourceId ?? null,
        message: outcome.message ?? null,
        finishedAt: new Date(),
      });
      return undefined;
    } catch (error) {
      if (context.signal.aborted) throw new RunInterruptedError(`run ${runId} interrupted during step ${definition.name}`);
      if (isDatabaseUnavailable(error)) throw error;
      const message = this.failureMessage(error, definition.name, runId);
      await updateStep({ status: "FAILED", message, finishedAt: new Date() });
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

  private async finish(backend: Backend, view: RunView, kind: string, failures: string[]): Promise<void> {
    const runId = view.id;
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
      const finished = await tx.provisioningRun.update({ where: { id: runId }, data: { status: failures.length ? "FAILED" : "SUCCEEDED", error: error && error + notDeleted, finishedAt: new Date() } });
      Object.assign(view, runFields(finished));
      await tx.backend.update({ where: { id: backend.id }, data: { status: backendStatus, ...(failures.length ? { deleteRequestedAt: null } : {}) } });
      return deleting && !failures.length && kind === "TEARDOWN";
    });
    this.emit(view);
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
        // INSERT … ON CONFLICT DO NOTHING: one statement (an upsert is a transaction of four).
        await prisma.backendResource.createMany({
          data: [{ backendId: backend.id, kind: resource.kind, identifier: resource.identifier, details: resource.details as object }],
          skipDuplicates: true,
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


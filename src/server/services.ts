// The service layer, wired once per process. Resolvers reach services only through this object.
import type { AwsClientFactory } from "../aws/clients.js";
import type { Keyring } from "../crypto/keyring.js";
import type { PrismaClient } from "../db/prisma.js";
import { AwsDiscoveryService } from "../backends/discovery.service.js";
import { BackendCredentials } from "../backends/backend-credentials.js";
import { BackendsService } from "../backends/backends.service.js";
import { BackendDeletion } from "../backends/backend-deletion.js";
import { ProjectAccessService } from "../projects/project-access.js";
import { ProjectsService } from "../projects/projects.service.js";
import { TokensService } from "../users/tokens.service.js";
import { UsersService } from "../users/users.service.js";
import type { EventBus } from "../events/event-bus.js";
import type { RunQueue } from "../jobs/run-queue.js";
import { RunsService } from "../provisioning/runs.service.js";
import { BackendRemoval } from "../provisioning/backend-removal.js";
import type { RunView } from "../provisioning/run-view.js";
import type { LaunchRetryOptions } from "../aws/compute/launch.js";
import { ArtifactsService } from "../compute/artifacts.service.js";
import { InstancesService } from "../compute/instances.service.js";
import type { InstanceView } from "../compute/instance-view.js";
import { LogsService } from "../compute/logs.service.js";
import { OffersService } from "../compute/offers.service.js";
import { ProjectSecretsService } from "../compute/project-secrets.service.js";
import type { LiveInstance } from "../compute/instance-sync.js";
import type { Database } from "../db/prisma.js";
import type { Logger } from "../logging/logger.js";
import { SpendService } from "../spend/spend.service.js";
import { backendEvent, markGone, Reconciler, ReconcileScheduler, ReconciliationService, type ReconcilerEvent, type ReconcilerSettings } from "../reconciliation/index.js";
import type { AuditLog } from "../audit/audit-log.js";
import { AuditReader } from "../audit/audit-reader.js";

export interface ServiceDeps {
  prisma: PrismaClient;
  runQueue: RunQueue;
  launchRetry: LaunchRetryOptions;
  events: EventBus;
  aws: AwsClientFactory;
  keyring: Keyring;
  defaultCredentialsEnabled: boolean;
  /** The pool (for the reconciler's per-backend locks) and the logger (its actions are logged). */
  database: Database;
  logger: Logger;
  reconciliation: ReconcilerSettings;
  audit: AuditLog;
  /** Told of everything the reconciler does (the audit log, metrics). */
  reconcilerListeners: ((event: ReconcilerEvent) => void)[];
}

export function createServices({ prisma, aws, keyring, defaultCredentialsEnabled, runQueue, events, launchRetry, database, logger, reconciliation, audit, reconcilerListeners }: ServiceDeps) {
  const access = new ProjectAccessService(database.pool);
  const credentials = new BackendCredentials(keyring);
  const deletion = new BackendDeletion(prisma, aws, credentials);
  const backends = new BackendsService(prisma, access, new AwsDiscoveryService(aws), aws, credentials, { defaultCredentialsEnabled }, deletion);
  const publishRun = (run: RunView) => events.publish("RUN_UPDATED", run.id, run);
  const runs = new RunsService(prisma, access, backends, runQueue, publishRun);
  const publishInstance = (view: InstanceView) => events.publish("INSTANCE_UPDATED", view.id, view);
  const publishBackend = async (backendId: string) => {
    const row = await prisma.backend.findUnique({ where: { id: backendId } });
    if (row) events.publish("BACKEND_UPDATED", backendId, backendEvent(row));
  };
  const reconciler = new Reconciler({ prisma, backends, publishInstance, publishBackend, logger, listeners: reconcilerListeners }, reconciliation);
  const reconcileScheduler = new ReconcileScheduler(database.pool, prisma, reconciler, logger);
  return {
    access,
    credentials,
    users: new UsersService(prisma),
    tokens: new TokensService(prisma, database.pool),
    projects: new ProjectsService(prisma, access),
    backends,
    deletion,
    runs,
    removal: new BackendRemoval(prisma, backends, deletion, runs),
    publishRun,
    offers: new OffersService(backends),
    instances: new InstancesService(prisma, backends, publishInstance, launchRetry),
    projectSecrets: new ProjectSecretsService(prisma, backends),
    logs: new LogsService(backends),
    artifacts: new ArtifactsService(backends),
    spend: new SpendService(prisma, access),
    reconciler,
    reconcileScheduler,
    reconciliation: new ReconciliationService(prisma, backends, reconcileScheduler),
    /** The instance sync sees a live record's instance terminated: unless the service is ending it, an INSTANCE_GONE finding. */
    async instanceGone(row: LiveInstance, reason: string) {
      const context = { prisma, backend: row.backend, now: new Date(), publishInstance, report: (event: ReconcilerEvent) => reconciler.report(event) };
      if (await markGone(context, row, reason)) await publishBackend(row.backendId);
    },
    audit,
    auditEvents: new AuditReader(prisma, access, audit.store),
  };
}

export type Services = ReturnType<typeof createServices>;

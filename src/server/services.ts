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
import { LogsService } from "../compute/logs.service.js";
import { OffersService } from "../compute/offers.service.js";
import { ProjectSecretsService } from "../compute/project-secrets.service.js";

export interface ServiceDeps {
  prisma: PrismaClient;
  runQueue: RunQueue;
  launchRetry: LaunchRetryOptions;
  events: EventBus;
  aws: AwsClientFactory;
  keyring: Keyring;
  defaultCredentialsEnabled: boolean;
}

export function createServices({ prisma, aws, keyring, defaultCredentialsEnabled, runQueue, events, launchRetry }: ServiceDeps) {
  const access = new ProjectAccessService(prisma);
  const credentials = new BackendCredentials(keyring);
  const deletion = new BackendDeletion(prisma, aws, credentials);
  const backends = new BackendsService(prisma, access, new AwsDiscoveryService(aws), aws, credentials, { defaultCredentialsEnabled }, deletion);
  const publishRun = (run: RunView) => events.publish("RUN_UPDATED", run.id, run);
  const runs = new RunsService(prisma, access, backends, runQueue, publishRun);
  return {
    access,
    credentials,
    users: new UsersService(prisma),
    tokens: new TokensService(prisma),
    projects: new ProjectsService(prisma, access),
    backends,
    deletion,
    runs,
    removal: new BackendRemoval(prisma, backends, deletion, runs),
    publishRun,
    offers: new OffersService(backends),
    instances: new InstancesService(prisma, backends, (view) => events.publish("INSTANCE_UPDATED", view.id, view), launchRetry),
    projectSecrets: new ProjectSecretsService(prisma, backends),
    logs: new LogsService(backends),
    artifacts: new ArtifactsService(backends),
  };
}

export type Services = ReturnType<typeof createServices>;

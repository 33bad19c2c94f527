// Launching, reading and terminating instances. The Instance row is written before RunInstances,
// and its id is the EC2 ClientToken: a retried or resumed launch can never start a second machine.
import { randomUUID } from "node:crypto";
import { buildUserData, parseSshPublicKey } from "../aws/compute/user-data.js";
import { DEFAULT_IMAGE_SPEC, resolveImage, type ImageSpec } from "../aws/compute/images.js";
import { launchWithRetry, type LaunchRetryOptions } from "../aws/compute/launch.js";
import { instanceTags } from "../aws/names.js";
import type { Viewer } from "../users/viewer.js";
import { UserErrorCode, type UserErrorData } from "../errors/codes.js";
import type { Backend, Instance } from "../generated/prisma/client.js";
import type { InstanceMarket } from "../generated/prisma/enums.js";
import type { PrismaClient } from "../db/prisma.js";
import type { BackendsService } from "../backends/backends.service.js";
import { afterKey, keysetOrder, pageRequest, toPage, type Page } from "../db/pagination.js";
import { checkSlug, invalid, isUuid, notFound } from "../errors/validation.js";
import { imageOf } from "../backends/backend-image.js";
import { provisioningOutputs } from "../provisioning/index.js";
import { scopedBackend, type ScopedBackend } from "./backend-scope.js";
import { awsUserError } from "../aws/user-errors.js";
import { toInstanceView, type InstanceView } from "./instance-view.js";
import { isEnded, InstanceRecords, type InstanceChange } from "./instance-records.js";
import { InstanceTermination } from "./instance-termination.js";
import { withBackendLock } from "../backends/backend-lock.js";
import { beingDeleted } from "../backends/backend-deletion.js";

export interface LaunchInput {
  name?: string | null;
  instanceType: string;
  market?: InstanceMarket | null;
  diskGiB?: number | null;
  sshPublicKey?: string | null;
}

export interface InstanceResult {
  instance?: InstanceView;
  userErrors: UserErrorData[];
}

const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/;
const DEFAULT_DISK_GIB = 100;
const EMPTY_USER_DATA = Buffer.from("#cloud-config\n").toString("base64");

/** Why the backend, as it is, takes no new instance. */
function launchBlockers(backend: Backend): UserErrorData[] {
  if (backend.deleteRequestedAt) return [beingDeleted(["backendId"])];
  if (backend.status !== "READY") return [invalid(["backendId"], `The backend is ${backend.status}; provision it (provisionBackend) until it is READY.`)];
  return [];
}

export class InstancesService {
  /** Record changes under the backend's lock, and termination until EC2 confirms it (the sync uses both). */
  readonly records: InstanceRecords;
  readonly termination: InstanceTermination;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly backends: BackendsService,
    publish: (view: InstanceView) => void,
    private readonly launchRetry: LaunchRetryOptions,
  ) {
    this.records = new InstanceRecords(prisma, publish);
    this.termination = new InstanceTermination(this.records);
  }


  async find(viewer: Viewer, id: string): Promise<InstanceView | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.instance.findUnique({ where: { id } });
    if (!row || !(await this.backends.find(viewer, row.backendId))) return null;
    return toInstanceView(row);
  }

  /** A page of a backend's instances; the caller has already been allowed to see the backend. */
  async listForBackend(backendId: string, first?: number | null, after?: string | null): Promise<Page<InstanceView>> {
    const request = pageRequest(first, after);
    const rows = await this.prisma.instance.findMany({ where: { AND: [{ backendId }, afterKey(request.after)] }, orderBy: keysetOrder, take: request.take });
    return toPage(rows.map(toInstanceView), request);
  }

  async launch(viewer: Viewer, backendId: string, input: LaunchInput): Promise<InstanceResult> {
    const scoped = await scopedBackend(this.backends, viewer, backendId, "USER");
    if (!scoped) return { userErrors: [notFound(["backendId"], "Backend")] };
    const { backend, session } = scoped;
    // Checked here to spare AWS calls, and again under the lock where the record is written.
    const problems = [...this.inputProblems(input), ...launchBlockers(backend)];
    if (problems.length) return { userErrors: problems };

    const image = await resolveImage(session, backend.awsRegion, imageSpecOf(backend));
    if (!image.ok) return { userErrors: [awsUserError(image.error, ["backendId"])] };

    const id = randomUUID();
    const market = input.market ?? "ON_DEMAND";
    const name = input.name ?? `${input.instanceType.replace(".", "-")}-${id.slice(0, 8)}`;
    // The PENDING record is written under the backend's lock, with the backend's state checked
    // there: a concurrent deleteBackend or teardown either sees this record or is seen by it.
    const recorded = await withBackendLock(this.prisma, backendId, async (tx, now) => {
      const blockers = launchBlockers(now);
      if (blockers.length) return { problems: blockers };
      const outputs = await provisioningOutputs(tx, backendId);
      if (!outputs) return { problems: [invalid(["backendId"], "The backend's security group or instance profile is not known; run provisionBackend again.")] };
      const row = await tx.instance.create({
        data: { id, backendId, name, instanceType: input.instanceType, market, region: now.awsRegion, clientToken: `bh-${id}` },
      });
      return { row, outputs };
    });
    if (!recorded) return { userErrors: [notFound(["backendId"], "Backend")] };
    if (!recorded.row) return { userErrors: recorded.problems };
    const { row, outputs } = recorded;
    const ssh = input.sshPublicKey ? buildUserData(input.sshPublicKey) : { ok: true as const, value: EMPTY_USER_DATA };
    const launched = await launchWithRetry(
      session,
      backend.awsRegion,
      {
        clientToken: row.clientToken,
        instanceType: input.instanceType,
        imageId: image.value.imageId,
        rootDeviceName: image.value.rootDeviceName,
        market,
        subnetId: backend.awsSubnetId,
        securityGroupId: outputs.securityGroupId,
        instanceProfileName: outputs.instanceProfileName,
        diskGiB: input.diskGiB ?? DEFAULT_DISK_GIB,
        userData: ssh.ok ? ssh.value : EMPTY_USER_DATA,
        tags: instanceTags({ name, bucket: backend.awsBucket, backendId: backend.id, projectId: backend.projectId }),
      },
      this.launchRetry,
    );
    if (launched.ok) return this.recordLaunched(row, scoped, { awsInstanceId: launched.value.instanceId, spotRequestId: launched.value.spotRequestId });
    const failure = launched.error;
    const problem = awsUserError(failure, failure.kind === "INSTANCE_TYPE_UNAVAILABLE" ? ["input", "instanceType"] : ["backendId"]);
    switch (failure.kind) {
      case "INSTANCE_TYPE_UNAVAILABLE":
      case "INVALID_INPUT":
        // Nothing was launched: no record to keep.
        await withBackendLock(this.prisma, backendId, (tx) => tx.instance.deleteMany({ where: { id } }));
        return { userErrors: [problem] };
      case "NO_CAPACITY":
        return { instance: await this.changeUnlessEnded(row, { status: "NO_CAPACITY", statusReason: failure.message }), userErrors: [problem] };
      case "TRANSIENT":
      case "INSTANCE_PROFILE_NOT_READY":
        // It may or may not have launched: the background sync finishes it with the same token (or,
        // when termination was asked for meanwhile, terminates what the token started).
        return {
          instance: await this.changeUnlessEnded(row, (now) => (now.terminationRequestedAt ? null : { statusReason: `Launch still in progress: ${failure.message}` })),
          userErrors: [problem],
        };
      default:
        return { instance: await this.changeUnlessEnded(row, { status: "FAILED", statusReason: failure.message, terminatedAt: new Date() }), userErrors: [problem] };
    }
  }

  async terminate(viewer: Viewer, id: string): Promise<InstanceResult> {
    const row = isUuid(id) ? await this.prisma.instance.findUnique({ where: { id } }) : null;
    const scoped = row ? await scopedBackend(this.backends, viewer, row.backendId, "USER") : null;
    if (!row || !scoped) return { userErrors: [notFound(["id"], "Instance")] };
    return this.termination.pursue(row, scoped);
  }

  /**
   * RunInstances answered: the record gets its instance, under the lock. When termination was asked
   * for meanwhile (or the record ended), the instance EC2 just started is terminated at once.
   */
  private async recordLaunched(row: Instance, scoped: ScopedBackend, ids: { awsInstanceId: string; spotRequestId: string | null }): Promise<InstanceResult> {
    const written = await this.records.change(scoped.backend.id, row.id, (now) =>
      isEnded(now)
        ? { ...ids, status: "TERMINATING", terminatedAt: null, terminationRequestedAt: now.terminationRequestedAt ?? new Date(), statusReason: "Ended while launching: the instance EC2 then started is being terminated." }
        : ids,
    );
    if (!written) return { userErrors: [notFound(["backendId"], "Instance")] };
    if (!written.row.terminationRequestedAt) return { instance: toInstanceView(written.row), userErrors: [] };
    const ended = await this.termination.pursue(written.row, scoped);
    return { instance: ended.instance, userErrors: ended.userErrors.map((e) => ({ ...e, field: ["backendId"] })) };
  }

  /** Applies a change (or what `decide` returns for the record as it is now) unless the record has ended. */
  private async changeUnlessEnded(row: Instance, change: InstanceChange | ((now: Instance) => InstanceChange | null)): Promise<InstanceView | undefined> {
    const written = await this.records.change(row.backendId, row.id, (now) => (isEnded(now) ? null : typeof change === "function" ? change(now) : change));
    return written ? toInstanceView(written.row) : undefined;
  }

  private inputProblems(input: LaunchInput): UserErrorData[] {
    const problems: UserErrorData[] = [];
    if (!INSTANCE_TYPE.test(input.instanceType)) {
      problems.push({ code: UserErrorCode.INSTANCE_TYPE_UNAVAILABLE, message: `"${input.instanceType.slice(0, 40)}" is not an EC2 instance type (e.g. t3.micro).`, field: ["input", "instanceType"] });
    }
    if (input.name != null) {
      const problem = checkSlug(input.name, ["input", "name"], "Instance name");
      if (problem) problems.push(problem);
    }
    if (input.diskGiB != null && (!Number.isInteger(input.diskGiB) || input.diskGiB < 8 || input.diskGiB > 16_384)) {
      problems.push(invalid(["input", "diskGiB"], "diskGiB must be a whole number from 8 to 16384."));
    }
    if (input.sshPublicKey) {
      const key = parseSshPublicKey(input.sshPublicKey);
      if (!key.ok) problems.push(invalid(["input", "sshPublicKey"], key.message));
    }
    return problems;
  }
}

function imageSpecOf(backend: Backend): ImageSpec {
  return imageOf(backend.settings) ?? DEFAULT_IMAGE_SPEC;
}

// Launching, reading and terminating instances. The Instance row is written before RunInstances,
// and its id is the EC2 ClientToken: a retried or resumed launch can never start a second machine.
import { randomUUID } from "node:crypto";
import { buildUserData, parseSshPublicKey } from "../aws/compute/user-data.js";
import { DEFAULT_IMAGE_SPEC, resolveImage, type ImageSpec } from "../aws/compute/images.js";
import { launchWithRetry, lookupByToken, normalizeClientToken, type LaunchRetryOptions } from "../aws/compute/launch.js";
import { instanceTags } from "../aws/names/tags.js";
import { terminateInstance } from "../aws/compute/terminate.js";
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
import { computeUserError } from "./compute-errors.js";
import { toInstanceView, type InstanceView } from "./instance-view.js";
import { launchPrice } from "../spend/launch-price.js";
import { reserveLaunch } from "../spend/project-limits.js";
import { checkMaxDuration } from "../spend/limits-input.js";

export interface LaunchInput {
  name?: string | null;
  instanceType: string;
  market?: InstanceMarket | null;
  diskGiB?: number | null;
  sshPublicKey?: string | null;
  /** Absent: the project's defaultMaxDurationMinutes. */
  maxDurationMinutes?: number | null;
}

export interface InstanceResult {
  instance?: InstanceView;
  userErrors: UserErrorData[];
}

const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/;
const DEFAULT_DISK_GIB = 100;
const EMPTY_USER_DATA = Buffer.from("#cloud-config\n").toString("base64");

export class InstancesService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly backends: BackendsService,
    private readonly publish: (view: InstanceView) => void,
    private readonly launchRetry: LaunchRetryOptions,
  ) {}

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
    const problems = this.inputProblems(input);
    if (backend.status !== "READY") problems.push(invalid(["backendId"], `The backend is ${backend.status}; provision it (provisionBackend) until it is READY.`));
    const outputs = problems.length ? null : await provisioningOutputs(this.prisma, backend.id);
    if (!problems.length && !outputs) problems.push(invalid(["backendId"], "The backend's security group or instance profile is not known; run provisionBackend again."));
    if (problems.length) return { userErrors: problems };

    const image = await resolveImage(session, backend.awsRegion, imageSpecOf(backend));
    if (!image.ok) return { userErrors: [computeUserError(image.error, ["backendId"])] };

    const id = randomUUID();
    const market = input.market ?? "ON_DEMAND";
    const name = input.name ?? `${input.instanceType.replace(".", "-")}-${id.slice(0, 8)}`;
    // Spend safety: the price, then the project's limits and the record, serialised per project.
    const price = await launchPrice(session, backend.awsRegion, input.instanceType, market);
    const reserved = await reserveLaunch(
      this.prisma,
      backend.projectId,
      { instanceType: input.instanceType, market, pricePerHour: price.pricePerHour, unknownPriceReason: price.unknownReason, maxDurationMinutes: input.maxDurationMinutes },
      (tx, limits) => tx.instance.create({ data: { id, backendId, name, instanceType: input.instanceType, market, region: backend.awsRegion, clientToken: `bh-${id}`, ...limits } }),
    );
    if (!reserved.ok) return { userErrors: [reserved.error] };
    const row = reserved.value;
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
        securityGroupId: outputs!.securityGroupId,
        instanceProfileName: outputs!.instanceProfileName,
        diskGiB: input.diskGiB ?? DEFAULT_DISK_GIB,
        userData: ssh.ok ? ssh.value : EMPTY_USER_DATA,
        tags: instanceTags({ name, bucket: backend.awsBucket, backendId: backend.id, projectId: backend.projectId }),
      },
      this.launchRetry,
    );
    if (launched.ok) {
      const ids = { awsInstanceId: launched.value.instanceId, spotRequestId: launched.value.spotRequestId };
      const recorded = await this.updateUnlessEnded(id, ids);
      if (recorded) return { instance: recorded, userErrors: [] };
      // terminateInstance ran while RunInstances was in flight and found nothing to end: end it now.
      return this.endLaunchedAfterTermination(id, scoped, ids);
    }
    const failure = launched.error;
    const problem = computeUserError(failure, failure.kind === "INSTANCE_TYPE_UNAVAILABLE" ? ["input", "instanceType"] : ["backendId"]);
    switch (failure.kind) {
      case "INSTANCE_TYPE_UNAVAILABLE":
      case "INVALID_INPUT":
        // Nothing was launched: no record to keep.
        await this.prisma.instance.delete({ where: { id } });
        return { userErrors: [problem] };
      case "NO_CAPACITY":
        return { instance: await this.update(id, { status: "NO_CAPACITY", statusReason: failure.message }), userErrors: [problem] };
      case "TRANSIENT":
      case "INSTANCE_PROFILE_NOT_READY": {
        // It may or may not have launched: the background sync finishes it with the same token.
        const pending = await this.updateUnlessEnded(id, { statusReason: `Launch still in progress: ${failure.message}` });
        if (pending) return { instance: pending, userErrors: [problem] };
        // Terminated meanwhile, and the sync no longer looks at it: whatever the token launched is ended now.
        const found = await lookupByToken(session, backend.awsRegion, normalizeClientToken(row.clientToken));
        if (found.ok && found.value) return this.endLaunchedAfterTermination(id, scoped, { awsInstanceId: found.value.instanceId, spotRequestId: found.value.spotRequestId });
        return { instance: toInstanceView(await this.prisma.instance.findUniqueOrThrow({ where: { id } })), userErrors: [problem] };
      }
      default:
        return { instance: await this.update(id, { status: "FAILED", statusReason: failure.message, terminatedAt: new Date() }), userErrors: [problem] };
    }
  }

  async terminate(viewer: Viewer, id: string): Promise<InstanceResult> {
    const row = isUuid(id) ? await this.prisma.instance.findUnique({ where: { id } }) : null;
    const scoped = row ? await scopedBackend(this.backends, viewer, row.backendId, "USER") : null;
    if (!row || !scoped) return { userErrors: [notFound(["id"], "Instance")] };
    if (row.status === "TERMINATED" || row.status === "FAILED") return { instance: toInstanceView(row), userErrors: [] };
    let { awsInstanceId, spotRequestId } = row;
    if (!awsInstanceId && !spotRequestId) {
      // A launch whose answer was lost (timeout) may still have started an instance: look for it by
      // its ClientToken before calling it gone, or it would run on, untracked.
      const found = await lookupByToken(scoped.session, row.region, normalizeClientToken(row.clientToken));
      if (!found.ok) return { instance: toInstanceView(row), userErrors: [computeUserError(found.error, ["id"])] };
      if (!found.value) {
        const ended = await this.updateUnlessEnded(
          id,
          { status: "TERMINATED", terminatedAt: new Date(), statusReason: "Terminated before EC2 reported an instance." },
          { awsInstanceId: null, spotRequestId: null },
        );
        // Meanwhile the launch recorded its instance (terminate that one) or the record ended otherwise.
        return ended ? { instance: ended, userErrors: [] } : this.terminate(viewer, id);
      }
      ({ instanceId: awsInstanceId, spotRequestId } = found.value);
    }
    const result = await terminateInstance(scoped.session, row.region, { instanceId: awsInstanceId, spotRequestId, bucket: scoped.backend.awsBucket });
    if (!result.ok) return { instance: toInstanceView(row), userErrors: [computeUserError(result.error, ["id"])] };
    const gone = result.value.instance === "already-terminated" || result.value.instance === "not-found" || result.value.instance === "none";
    return {
      instance: await this.update(id, {
        status: gone ? "TERMINATED" : "TERMINATING",
        awsInstanceId: result.value.instanceId ?? awsInstanceId,
        spotRequestId: result.value.spotRequestId ?? spotRequestId,
        ...(gone ? { terminatedAt: new Date() } : {}),
      }),
      userErrors: [],
    };
  }

  /**
   * Like update, unless the instance was terminated (or failed) meanwhile, or no longer matches
   * `unchanged`: then null and nothing changed.
   */
  private async updateUnlessEnded(
    id: string,
    data: Parameters<InstancesService["update"]>[1],
    unchanged: { awsInstanceId?: null; spotRequestId?: null } = {},
  ): Promise<InstanceView | null> {
    const { count } = await this.prisma.instance.updateMany({ where: { id, status: { notIn: ["TERMINATED", "FAILED"] }, ...unchanged }, data });
    if (count === 0) return null;
    const view = toInstanceView(await this.prisma.instance.findUniqueOrThrow({ where: { id } }));
    this.publish(view);
    return view;
  }

  /**
   * The launch started an instance after terminateInstance had already recorded the record as ended:
   * terminate that instance too, and track it again until EC2 reports it gone.
   */
  private async endLaunchedAfterTermination(
    id: string,
    { backend, session }: ScopedBackend,
    ids: { awsInstanceId: string; spotRequestId: string | null },
  ): Promise<InstanceResult> {
    const ended = await terminateInstance(session, backend.awsRegion, { instanceId: ids.awsInstanceId, spotRequestId: ids.spotRequestId, bucket: backend.awsBucket });
    if (!ended.ok) {
      const instance = await this.update(id, {
        ...ids,
        status: "PENDING",
        terminatedAt: null,
        statusReason: `Terminated while launching, but the instance EC2 then started could not be terminated (${ended.error.message}); terminate it again.`,
      });
      return { instance, userErrors: [computeUserError(ended.error, ["backendId"])] };
    }
    const instance = await this.update(id, { ...ids, status: "TERMINATING", terminatedAt: null, statusReason: "Terminated while launching: the instance EC2 started is being terminated." });
    return { instance, userErrors: [] };
  }

  /** Applies a change, publishes the new state, and returns it. */
  async update(id: string, data: Partial<Pick<Instance, "status" | "statusReason" | "awsInstanceId" | "spotRequestId" | "terminatedAt" | "pricePerHour">>): Promise<InstanceView> {
    const view = toInstanceView(await this.prisma.instance.update({ where: { id }, data }));
    this.publish(view);
    return view;
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
    const duration = checkMaxDuration(input.maxDurationMinutes, ["input", "maxDurationMinutes"]);
    if (duration) problems.push(duration);
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

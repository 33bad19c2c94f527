// A project's limits (read and set by its ADMIN) and its spend estimate.
import type { PrismaClient } from "../db/prisma.js";
import type { Project } from "../generated/prisma/client.js";
import type { UserErrorData } from "../errors/codes.js";
import { invalid, notFound } from "../errors/validation.js";
import type { ProjectAccessService } from "../projects/project-access.js";
import type { Viewer } from "../users/viewer.js";
import { estimateSpend, startOfMonthUtc, type SpendFigures } from "./estimate.js";
import { checkMaxDuration, MAX_LIVE_INSTANCES_LIMIT } from "./limits-input.js";
import type { ProjectLimits } from "./project-limits.js";

/** undefined keeps a limit as it is; null clears it. */
export type LimitsInput = { [K in keyof ProjectLimits]?: ProjectLimits[K] };

export interface LimitsResult {
  project?: Project;
  userErrors: UserErrorData[];
}

export class SpendService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly access: ProjectAccessService,
  ) {}

  async setLimits(viewer: Viewer, projectId: string, input: LimitsInput): Promise<LimitsResult> {
    const access = await this.access.require(viewer, projectId, "ADMIN");
    if (!access) return { userErrors: [notFound(["projectId"], "Project")] };
    const problems: UserErrorData[] = [];
    const { maxHourlySpend, maxLiveInstances, defaultMaxDurationMinutes } = input;
    if (maxHourlySpend != null && !(Number.isFinite(maxHourlySpend) && maxHourlySpend >= 0 && maxHourlySpend <= 1_000_000)) {
      problems.push(invalid(["input", "maxHourlySpend"], "maxHourlySpend must be a number of USD per hour from 0 to 1000000, or null for no limit."));
    }
    if (maxLiveInstances != null && !(Number.isInteger(maxLiveInstances) && maxLiveInstances >= 0 && maxLiveInstances <= MAX_LIVE_INSTANCES_LIMIT)) {
      problems.push(invalid(["input", "maxLiveInstances"], `maxLiveInstances must be a whole number from 0 to ${MAX_LIVE_INSTANCES_LIMIT}, or null for no limit.`));
    }
    const duration = checkMaxDuration(defaultMaxDurationMinutes, ["input", "defaultMaxDurationMinutes"]);
    if (duration) problems.push(duration);
    if (problems.length) return { userErrors: problems };
    const project = await this.prisma.project.update({
      where: { id: projectId },
      data: { maxHourlySpend, maxLiveInstances, defaultMaxDurationMinutes },
    });
    return { project, userErrors: [] };
  }

  /** The estimate for a project the caller can already see. */
  async spend(projectId: string, since: Date | null | undefined, now = new Date()): Promise<SpendFigures> {
    const from = since ?? startOfMonthUtc(now);
    const [backends, rows] = await Promise.all([
      this.prisma.backend.findMany({ where: { projectId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true } }),
      this.prisma.instance.findMany({
        where: { backend: { projectId }, createdAt: { lt: now }, OR: [{ terminatedAt: null }, { terminatedAt: { gte: from } }] },
        select: { backendId: true, status: true, awsInstanceId: true, pricePerHour: true, createdAt: true, terminatedAt: true, updatedAt: true },
      }),
    ]);
    return estimateSpend(rows, backends.map((backend) => backend.id), from, now);
  }
}

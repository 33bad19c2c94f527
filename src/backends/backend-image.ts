// The machine image a backend launches: an AMI id, or a name pattern with a pinned owner (never a
// name alone). Kept in the backend's settings; absent means the default (newest Ubuntu 22.04 LTS
// owned by Canonical).
import { imageSpecProblem, type ImageSpec } from "../aws/compute/images.js";
import type { UserErrorData } from "../errors/codes.js";
import { invalid } from "../errors/validation.js";

export interface ImageInput {
  amiId?: string | null;
  namePattern?: string | null;
  owner?: string | null;
}

const FIELD = ["input", "image"];

export function imageSpecFrom(input: ImageInput): { spec: ImageSpec } | { problem: UserErrorData } {
  if (input.amiId && (input.namePattern || input.owner)) return { problem: invalid(FIELD, "Give either amiId, or namePattern with owner; not both.") };
  const spec: ImageSpec = input.amiId ? { amiId: input.amiId } : { namePattern: input.namePattern ?? "", owner: input.owner ?? "" };
  const problem = imageSpecProblem(spec);
  return problem ? { problem: invalid(FIELD, problem) } : { spec };
}

export function withImage(settings: unknown, spec: ImageSpec): object {
  return { ...((settings as object | null) ?? {}), image: spec };
}

export function imageOf(settings: unknown): ImageSpec | null {
  return (settings as { image?: ImageSpec } | null)?.image ?? null;
}

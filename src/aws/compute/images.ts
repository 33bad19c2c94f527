// Which machine image an instance boots. Either an exact AMI id, or the newest available image whose
// name matches a pattern AND whose owner is pinned. Never by name alone: anyone can publish a public
// AMI named like Ubuntu's (the dstack hub looked images up by name only, see dstack-aws.md §3.5).
import type { DescribeImagesCommandInput, Image } from "@aws-sdk/client-ec2";
import type { AwsSession } from "../discovery.js";
import { attempt, localFailure, type AwsResult } from "../errors.js";
import { allPages } from "../pagination.js";
import { sdk } from "../sdk.js";

/** Canonical's AWS account: the publisher of the official Ubuntu images. */
export const CANONICAL_OWNER_ID = "099720109477";

export type ImageByName = { namePattern: string; owner: string };
export type ImageSpec = { amiId: string } | ImageByName;

/** The newest Ubuntu 22.04 LTS (jammy) amd64 server image published by Canonical. */
export const DEFAULT_IMAGE_SPEC: ImageByName = {
  namePattern: "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*",
  owner: CANONICAL_OWNER_ID,
};

export interface ResolvedImage {
  imageId: string;
  name: string;
  ownerId: string;
  creationDate: string | null;
  /** The root volume's device, e.g. "/dev/sda1" (Ubuntu) or "/dev/xvda" (Amazon Linux). */
  rootDeviceName: string | null;
  architecture: string | null;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
/** A 12-digit account id, or one of the aliases EC2 accepts in Owners. */
const OWNER = /^(\d{12}|amazon|aws-marketplace|self)$/;

/** Checks a spec before any AWS call; null when it is usable. */
export function imageSpecProblem(spec: ImageSpec): string | null {
  if ("amiId" in spec) return AMI_ID.test(spec.amiId) ? null : `"${spec.amiId}" is not an AMI id (ami-…).`;
  if (!spec.namePattern?.trim()) return "An image name pattern is required.";
  if (spec.namePattern.length > 256) return "The image name pattern is longer than 256 characters.";
  if (!OWNER.test(spec.owner ?? "")) {
    return `An image looked up by name needs a pinned owner (a 12-digit AWS account id, "amazon" or "aws-marketplace"); got "${spec.owner ?? ""}".`;
  }
  return null;
}

/** The DescribeImages input for a spec: by id, or by name pattern restricted to the owner and to available images. */
export function describeImagesInput(spec: ImageSpec): DescribeImagesCommandInput {
  if ("amiId" in spec) return { ImageIds: [spec.amiId] };
  return {
    Owners: [spec.owner],
    Filters: [
      { Name: "name", Values: [spec.namePattern] },
      { Name: "state", Values: ["available"] },
    ],
    MaxResults: 1000,
  };
}

function toResolved(image: Image): ResolvedImage {
  return {
    imageId: image.ImageId ?? "",
    name: image.Name ?? "",
    ownerId: image.OwnerId ?? "",
    creationDate: image.CreationDate ?? null,
    rootDeviceName: image.RootDeviceName ?? null,
    architecture: image.Architecture ?? null,
  };
}

/** Newest by CreationDate (ISO 8601 strings sort chronologically), then by name (dated suffixes). */
export function newestImage(images: readonly Image[]): Image | null {
  let best: Image | null = null;
  for (const image of images) {
    if (!best) {
      best = image;
      continue;
    }
    const a = image.CreationDate ?? "";
    const b = best.CreationDate ?? "";
    if (a > b || (a === b && (image.Name ?? "") > (best.Name ?? ""))) best = image;
  }
  return best;
}

function ownedBy(image: Image, owner: string): boolean {
  if (/^\d{12}$/.test(owner)) return image.OwnerId === owner;
  return true; // aliases and "self" are resolved by EC2's Owners parameter itself
}

/**
 * Resolves `spec` in `region` (DescribeImages). By id: that image, if it exists and is available.
 * By pattern: the newest available image with a matching name owned by the pinned owner; other
 * owners' images of the same name are never considered. Failures: INVALID_INPUT (bad spec),
 * NOT_FOUND ("no image matching … owned by …"), or the classified AWS failure.
 */
export async function resolveImage(
  session: AwsSession,
  region: string,
  spec: ImageSpec = DEFAULT_IMAGE_SPEC,
): Promise<AwsResult<ResolvedImage>> {
  const problem = imageSpecProblem(spec);
  if (problem) return { ok: false, error: localFailure("INVALID_INPUT", "ec2", "DescribeImages", "InvalidImageSpec", problem) };
  const { paginateDescribeImages } = await sdk.ec2();
  const ec2 = await session.factory.client("ec2", region, session.credentials);
  const input = describeImagesInput(spec);
  const listed = await attempt("ec2", "DescribeImages", () => allPages(paginateDescribeImages({ client: ec2 }, input), (page) => page.Images));

  if ("amiId" in spec) {
    const notFound = localFailure("NOT_FOUND", "ec2", "DescribeImages", "InvalidAMIID.NotFound", `Image ${spec.amiId} does not exist in ${region}.`);
    if (!listed.ok) return listed.error.kind === "NOT_FOUND" ? { ok: false, error: notFound } : listed;
    const image = listed.value.find((candidate) => candidate.ImageId === spec.amiId);
    if (!image) return { ok: false, error: notFound };
    if (image.State !== "available") {
      return {
        ok: false,
        error: localFailure("NOT_FOUND", "ec2", "DescribeImages", "ImageNotAvailable", `Image ${spec.amiId} in ${region} is ${image.State ?? "not available"}.`),
      };
    }
    return { ok: true, value: toResolved(image) };
  }

  if (!listed.ok) return listed;
  const candidates = listed.value.filter((image) => image.State === "available" && ownedBy(image, spec.owner));
  const newest = newestImage(candidates);
  if (!newest) {
    return {
      ok: false,
      error: localFailure(
        "NOT_FOUND",
        "ec2",
        "DescribeImages",
        "NoMatchingImage",
        `No available image matching "${spec.namePattern}" owned by ${spec.owner} in ${region}.`,
      ),
    };
  }
  return { ok: true, value: toResolved(newest) };
}

// Image resolution: by AMI id, or by name pattern with a pinned owner, never by name alone.
// moto creates every registered image under the caller's own account, so "the same name from
// another owner" is staged two ways: (1) on the shared server, moto's built-in Canonical xenial image
// against a same-named image registered by our account; (2) on a private moto_server started with
// MOTO_AMIS_PATH (moto.md §3.2), whose image list has jammy images from Canonical and from an
// impostor account, so the default spec itself is exercised. (moto cannot take creation dates from
// that list, see below: "newest" is decided by the dated names there, and by date in the unit test.)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DescribeImagesCommand, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { afterAll, describe, expect, it } from "vitest";
import {
  CANONICAL_OWNER_ID,
  DEFAULT_IMAGE_SPEC,
  describeImagesInput,
  imageSpecProblem,
  resolveImage,
} from "../../src/aws/compute/images.js";
import { useAwsSession, useMoto, usePrivateMoto } from "../support/fixtures.js";
import { ec2Client } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const IMPOSTOR = "666666666666";
const XENIAL_PATTERN = "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*";

describe("describeImagesInput", () => {
  it("always sends the owner with a name pattern, and only available images", () => {
    expect(describeImagesInput(DEFAULT_IMAGE_SPEC)).toEqual({
      Owners: [CANONICAL_OWNER_ID],
      Filters: [
        { Name: "name", Values: ["ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*"] },
        { Name: "state", Values: ["available"] },
      ],
      MaxResults: 1000,
    });
    expect(describeImagesInput({ amiId: "ami-0123456789abcdef0" })).toEqual({ ImageIds: ["ami-0123456789abcdef0"] });
  });

  it("refuses a name pattern without a pinned owner, and malformed ids", () => {
    expect(imageSpecProblem({ namePattern: "ubuntu*", owner: "" })).toMatch(/pinned owner/);
    expect(imageSpecProblem({ namePattern: "ubuntu*", owner: "canonical" })).toMatch(/pinned owner/);
    expect(imageSpecProblem({ namePattern: "", owner: CANONICAL_OWNER_ID })).toMatch(/pattern/);
    expect(imageSpecProblem({ amiId: "ubuntu-22.04" })).toMatch(/not an AMI id/);
    expect(imageSpecProblem(DEFAULT_IMAGE_SPEC)).toBeNull();
  });
});

describe("on the shared moto server", () => {
  const moto = useMoto();
  const { calls, session } = useAwsSession(moto);

  it("ignores a newer image of the same name owned by another account", async () => {
    const ec2 = ec2Client(moto.endpoint, REGION);
    const impostor = await ec2.send(new RegisterImageCommand({ Name: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20990101" }));
    // By name alone, the impostor (account 123456789012, registered last) would win.
    const byName = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "name", Values: [XENIAL_PATTERN] }] }));
    ec2.destroy();
    const newestByName = [...(byName.Images ?? [])].sort((a, b) => `${b.CreationDate}${b.Name}`.localeCompare(`${a.CreationDate}${a.Name}`))[0];
    expect(newestByName.ImageId).toBe(impostor.ImageId);

    const result = await resolveImage(session, REGION, { namePattern: XENIAL_PATTERN, owner: CANONICAL_OWNER_ID });
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({
        imageId: "ami-785db401",
        ownerId: CANONICAL_OWNER_ID,
        name: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721",
        rootDeviceName: "/dev/sda1",
      }),
    });
    expect(calls).toEqual([expect.objectContaining({ operation: "DescribeImages", action: "ec2:DescribeImages" })]);
  });

  it("says which pattern and owner found nothing", async () => {
    const result = await resolveImage(session, REGION); // moto has no jammy image
    expect(result).toMatchObject({ ok: false, error: { kind: "NOT_FOUND", code: "NoMatchingImage" } });
    if (!result.ok) {
      expect(result.error.message).toBe(
        `No available image matching "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*" owned by ${CANONICAL_OWNER_ID} in ${REGION}.`,
      );
    }
  });

  it("resolves an exact AMI id, and reports an unknown one as not found", async () => {
    expect(await resolveImage(session, REGION, { amiId: "ami-785db401" })).toMatchObject({ ok: true, value: { imageId: "ami-785db401" } });
    expect(await resolveImage(session, REGION, { amiId: "ami-0123456789abcdef0" })).toMatchObject({
      ok: false,
      error: { kind: "NOT_FOUND", message: `Image ami-0123456789abcdef0 does not exist in ${REGION}.` },
    });
  });

  it("refuses a spec without owner before calling AWS", async () => {
    const result = await resolveImage(session, REGION, { namePattern: "ubuntu/images/*", owner: "" });
    expect(result).toMatchObject({ ok: false, error: { kind: "INVALID_INPUT" } });
    expect(calls).toEqual([]);
  });
});

describe("default image on a moto_server with its own image list", () => {
  let dir: string | undefined;
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  const jammy = (id: string, owner: string, date: string, extra: Record<string, unknown> = {}) => ({
    ami_id: id,
    state: "available",
    public: true,
    owner_id: owner,
    image_location: `${owner}/ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-${date.slice(0, 10).replaceAll("-", "")}`,
    root_device_type: "ebs",
    root_device_name: "/dev/sda1",
    description: "Canonical, Ubuntu, 22.04 LTS",
    image_type: "machine",
    architecture: "x86_64",
    name: `ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-${date.slice(0, 10).replaceAll("-", "")}`,
    virtualization_type: "hvm",
    hypervisor: "xen",
    // No creation_date: moto 5.2.1 parses it in place in its shared AMI list, so the second region
    // backend it builds fails ("Parser must be a string … not datetime"). All images then get the
    // load time (equal to the second), and the dated names break the tie, as they do on AWS.
    ...extra,
  });

  /** Writes the private server's image list; returns its path. */
  function writeImageList(): string {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "amis-"));
    const amis = [
      jammy("ami-0a0000000000000a1", CANONICAL_OWNER_ID, "2023-01-01T00:00:00.000Z"),
      jammy("ami-0a0000000000000a2", CANONICAL_OWNER_ID, "2024-06-01T00:00:00.000Z"),
      // Same naming scheme, newer, public, other owner: must never be picked.
      jammy("ami-0a0000000000000a3", IMPOSTOR, "2025-06-01T00:00:00.000Z"),
      // Canonical but not matching: arm64, and another release.
      jammy("ami-0a0000000000000a4", CANONICAL_OWNER_ID, "2025-07-01T00:00:00.000Z", {
        name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20250701",
        architecture: "arm64",
      }),
      jammy("ami-0a0000000000000a5", CANONICAL_OWNER_ID, "2025-08-01T00:00:00.000Z", {
        name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250801",
      }),
      // Newest Canonical jammy, but not available yet.
      jammy("ami-0a0000000000000a6", CANONICAL_OWNER_ID, "2025-09-01T00:00:00.000Z", { state: "pending" }),
    ];
    const file = path.join(dir, "amis.json");
    fs.writeFileSync(file, JSON.stringify(amis));
    return file;
  }
  const { session } = useAwsSession(usePrivateMoto(() => ({ MOTO_AMIS_PATH: writeImageList() })));

  it("picks the newest available Ubuntu 22.04 amd64 image owned by Canonical", async () => {
    const result = await resolveImage(session, REGION);
    expect(result).toEqual({
      ok: true,
      value: {
        imageId: "ami-0a0000000000000a2",
        name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240601",
        ownerId: CANONICAL_OWNER_ID,
        creationDate: expect.any(String),
        rootDeviceName: "/dev/sda1",
        architecture: "x86_64",
      },
    });
  });

  it("the impostor's image is found only when its own account is the pinned owner", async () => {
    expect(await resolveImage(session, REGION, { namePattern: DEFAULT_IMAGE_SPEC.namePattern, owner: IMPOSTOR })).toMatchObject({
      ok: true,
      value: { imageId: "ami-0a0000000000000a3", ownerId: IMPOSTOR },
    });
    expect(await resolveImage(session, REGION, { namePattern: DEFAULT_IMAGE_SPEC.namePattern, owner: "111111111111" })).toMatchObject({
      ok: false,
      error: { kind: "NOT_FOUND" },
    });
  });
});

// Logs (FilterLogEvents) and artifacts (ListObjectsV2, presigned GET) against moto_server.
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import { keyOutsidePrefix, listArtifacts, presignDownload, projectArtifactsPrefix } from "../../src/aws/compute/artifacts.js";
import { filterLogEvents, type LogEvent } from "../../src/aws/compute/logs.js";
import { useAwsSession, useMoto } from "../support/fixtures.js";
import { createBucket, logsClient, s3Client } from "../support/moto-iam.js";

const REGION = "eu-west-1";
const BUCKET = "my-bucket";
const GROUP = `/dstack/jobs/${BUCKET}`;

const moto = useMoto();
const { calls, session } = useAwsSession(moto);

async function putEvents(group: string, stream: string, messages: string[], start: number) {
  const logs = logsClient(moto.endpoint, REGION);
  await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch((e: { name?: string }) => {
    if (e.name !== "ResourceAlreadyExistsException") throw e;
  });
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: stream,
      logEvents: messages.map((message, i) => ({ timestamp: start + i * 1000, message })),
    }),
  );
  logs.destroy();
}

async function allPages(query: Parameters<typeof filterLogEvents>[2]) {
  const pages: LogEvent[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await filterLogEvents(session, REGION, { ...query, nextToken });
    if (!page.ok) throw new Error(page.error.message);
    pages.push(page.value.events);
    nextToken = page.value.nextToken;
  } while (nextToken && pages.length < 20);
  return pages;
}

describe("filterLogEvents", () => {
  it("pages through 25 events 10 at a time, oldest first", async () => {
    const start = Date.now() - 60 * 60_000;
    await putEvents(GROUP, "run-1", Array.from({ length: 25 }, (_, i) => `line ${i}`), start);
    const pages = await allPages({ group: GROUP, limit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const events = pages.flat();
    expect(events.map((e) => e.message)).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i}`));
    expect(events[0]).toEqual({ timestamp: new Date(start), stream: "run-1", message: "line 0" });
    expect(new Set(calls.map((c) => c.action))).toEqual(new Set(["logs:FilterLogEvents"]));
  });

  it("keeps to the stream prefix and the time range", async () => {
    const start = Date.now() - 60 * 60_000;
    await putEvents(GROUP, "run-1", Array.from({ length: 12 }, (_, i) => `one ${i}`), start);
    await putEvents(GROUP, "run-2", Array.from({ length: 12 }, (_, i) => `two ${i}`), start + 500);
    // moto ignores logStreamNamePrefix; filterLogEvents applies it to the answer as well.
    const runOne = (await allPages({ group: GROUP, streamPrefix: "run-1", limit: 5 })).flat();
    expect(runOne.map((e) => e.message)).toEqual(Array.from({ length: 12 }, (_, i) => `one ${i}`));
    const ranged = (await allPages({ group: GROUP, startTime: new Date(start + 2000), endTime: start + 4000, limit: 100 })).flat();
    // AWS interleaves streams by time; moto returns them stream by stream.
    expect(ranged.map((e) => e.message).sort()).toEqual(["one 2", "one 3", "one 4", "two 2", "two 3"]);
  });

  it("a missing log group is an empty page, not an error", async () => {
    expect(await filterLogEvents(session, REGION, { group: `/dstack/runners/${BUCKET}`, limit: 10 })).toEqual({ ok: true, value: { events: [] } });
  });
});

describe("artifacts", () => {
  beforeEach(async () => {
    await createBucket(moto.endpoint, BUCKET, REGION);
    const s3 = s3Client(moto.endpoint, REGION);
    for (let i = 0; i < 25; i++) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `artifacts/p1/run-1/file-${String(i).padStart(2, "0")}.txt`, Body: `content ${i}` }));
    }
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "artifacts/p10/secret.txt", Body: "other project" }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "artifacts/p2/secret.txt", Body: "other project" }));
    s3.destroy();
  });

  it("lists a project's objects page by page", async () => {
    const prefix = projectArtifactsPrefix("p1");
    expect(prefix).toBe("artifacts/p1/");
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await listArtifacts(session, REGION, { bucket: BUCKET, prefix, limit: 10, continuationToken: token });
      if (!page.ok) throw new Error(page.error.message);
      pages.push(page.value.objects.map((o) => o.key));
      token = page.value.nextToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `artifacts/p1/run-1/file-${String(i).padStart(2, "0")}.txt`));
    const first = await listArtifacts(session, REGION, { bucket: BUCKET, prefix, limit: 1 });
    expect(first).toMatchObject({ ok: true, value: { objects: [{ key: "artifacts/p1/run-1/file-00.txt", size: 9 }] } });
    expect(first.ok && first.value.objects[0].lastModified).toBeInstanceOf(Date);
  });

  it("a missing bucket is a classified failure", async () => {
    expect(await listArtifacts(session, REGION, { bucket: "no-such-bucket", prefix: "artifacts/p1/", limit: 10 })).toMatchObject({
      ok: false,
      error: { kind: "NOT_FOUND", action: "s3:ListBucket" },
    });
  });

  it("presigns a download that works, expires in minutes, and stays inside the project prefix", async () => {
    const scopePrefix = projectArtifactsPrefix("p1");
    const url = await presignDownload(session, REGION, { bucket: BUCKET, key: "artifacts/p1/run-1/file-03.txt", scopePrefix, expiresSeconds: 300 });
    expect(url.ok).toBe(true);
    if (!url.ok) return;
    expect(new URL(url.value).searchParams.get("X-Amz-Expires")).toBe("300");
    const response = await fetch(url.value);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("content 3");

    for (const key of ["artifacts/p2/secret.txt", "artifacts/p10/secret.txt", "artifacts/p1/../p2/secret.txt", "artifacts/p1/", "secret.txt"]) {
      const refused = await presignDownload(session, REGION, { bucket: BUCKET, key, scopePrefix, expiresSeconds: 300 });
      expect(refused, key).toMatchObject({ ok: false, error: { kind: "INVALID_INPUT", code: "KeyOutsidePrefix" } });
    }
    // A scope without its trailing "/" would let "artifacts/p1" reach "artifacts/p10/…".
    expect(keyOutsidePrefix("artifacts/p10/secret.txt", "artifacts/p1")).toMatch(/must be a folder/);
    const long = await presignDownload(session, REGION, { bucket: BUCKET, key: "artifacts/p1/run-1/file-03.txt", scopePrefix, expiresSeconds: 7 * 86400 });
    expect(long.ok && new URL(long.value).searchParams.get("X-Amz-Expires")).toBe("3600");
  });
});

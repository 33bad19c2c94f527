// The typed client turns API misuse into compile errors. Two checks:
// - expectTypeOf below pins the generated types (checked by `npm run typecheck`, like all tests);
// - tsc runs on test/client/fixtures/typed-usage.ts (correct usage plus misuses marked
//   `// @ts-expect-error`) and on a copy without the markers: the first must compile cleanly, the
//   second must fail on exactly the marked lines.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createClient,
  type BackendQuery,
  type BackendQueryVariables,
  type Client,
  type CreateAwsBackendMutationVariables,
  type MeQuery,
  type ProvisionBackendMutation,
  type RunStatus,
  type TypedDocumentString,
  type UserErrorCode,
} from "../../client/src/client.js";
import { BackendDocument, MeDocument } from "../../client/src/generated/graphql.js";

const run = promisify(execFile);
const ROOT = process.cwd();
const FIXTURE = path.join(ROOT, "test/client/fixtures/typed-usage.ts");
const MARKER = /^\s*\/\/ @ts-expect-error (.*)$/;

describe("typed client: types", () => {
  it("pins the generated types (compile-time; see `npm run typecheck`)", () => {
    expectTypeOf(MeDocument).toEqualTypeOf<TypedDocumentString<MeQuery, Record<string, never>>>();
    expectTypeOf<MeQuery["me"]["globalRole"]>().toEqualTypeOf<"ADMIN" | "USER">();
    expectTypeOf<BackendQueryVariables>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<NonNullable<BackendQuery["backend"]>["status"]>().toEqualTypeOf<"CONFIGURED" | "FAILED" | "PROVISIONING" | "READY" | "TEARING_DOWN">();
    expectTypeOf<BackendQuery["backend"]>().toBeNullable();
    expectTypeOf<CreateAwsBackendMutationVariables["input"]["credentials"]["mode"]>().toEqualTypeOf<"ACCESS_KEY" | "DEFAULT">();
    expectTypeOf<NonNullable<ProvisionBackendMutation["provisionBackend"]["run"]>["status"]>().toEqualTypeOf<RunStatus>();
    expectTypeOf<ProvisionBackendMutation["provisionBackend"]["userErrors"][number]["code"]>().toEqualTypeOf<UserErrorCode>();
    expectTypeOf<ReturnType<Client["request"]>>().toExtend<Promise<unknown>>();
    const client = createClient({ url: "http://127.0.0.1:1/graphql" });
    expectTypeOf(client.request(BackendDocument, { id: "x" }).catch(() => null as never)).resolves.toEqualTypeOf<BackendQuery>();
  });

  it("tsc accepts correct usage and reports an error for each misuse", async () => {
    const source = fs.readFileSync(FIXTURE, "utf8");
    const lines = source.split("\n");
    const misuses = lines.flatMap((line, index) => {
      const match = MARKER.exec(line);
      return match ? [{ what: match[1]!, line: index + 2 }] : []; // the marked statement is on the next line (1-based)
    });
    expect(misuses.length).toBeGreaterThanOrEqual(10);

    // Both files live next to each other in test-output/ so that the relative import works.
    // test-output/ is git-ignored: a fresh clone does not have it.
    fs.mkdirSync(path.join(ROOT, "test-output"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(ROOT, "test-output", "client-types-"));
    const nested = path.join(dir, "a", "b");
    fs.mkdirSync(nested, { recursive: true });
    const relativeClient = path.relative(nested, path.join(ROOT, "client/src/client.js")).split(path.sep).join("/");
    const withImport = (text: string) => text.replace("../../../client/src/client.js", relativeClient);
    fs.writeFileSync(path.join(nested, "marked.ts"), withImport(source));
    // Replace each marker with an empty comment so line numbers stay the same.
    fs.writeFileSync(path.join(nested, "unmarked.ts"), withImport(lines.map((line) => (MARKER.test(line) ? "//" : line)).join("\n")));
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ extends: path.join(ROOT, "tsconfig.json"), compilerOptions: { noEmit: true }, include: ["a/b/*.ts"] }),
    );

    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: ROOT }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    fs.rmSync(dir, { recursive: true, force: true });

    const diagnostics = result.stdout
      .split("\n")
      .map((line) => /([\w.]+)\.ts\((\d+),\d+\): error (TS\d+): (.*)/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ file: match[1]!.split("/").pop()!, line: Number(match[2]), code: match[3]!, message: match[4]! }));

    // The marked file compiles: correct usage type-checks, and no marker is unused (TS2578).
    expect(diagnostics.filter((d) => d.file === "marked")).toEqual([]);
    // Without the markers, exactly the misuse lines fail.
    const unmarked = diagnostics.filter((d) => d.file === "unmarked");
    const failedLines = new Set(unmarked.map((d) => d.line));
    const missed = misuses.filter((m) => !failedLines.has(m.line)).map((m) => m.what);
    expect(missed, "misuses that compiled without an error").toEqual([]);
    const unexpected = unmarked.filter((d) => !misuses.some((m) => m.line === d.line));
    expect(unexpected, "errors on lines that are not marked as misuse").toEqual([]);
    expect(result.code).not.toBe(0);
  });
});

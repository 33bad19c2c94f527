// The GraphQL playground: served by the service itself (no CDN, works offline), driven end to end
// in headless Chromium (Debian's `chromium`, through playwright-core; never a downloaded
// browser), and absent when PLAYGROUND=false.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { request, type IncomingHttpHeaders } from "node:http";
import { gunzipSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAYGROUND_ASSETS } from "../../src/http/playground/playground.js";
import { useServer } from "../support/fixtures.js";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM_PATH);
if (!haveChromium) {
  console.warn(
    `SKIPPED: the playground browser test needs Chromium at ${CHROMIUM_PATH}. ` +
      `Install Debian's package "chromium" (sudo apt-get install -y chromium) or set CHROMIUM_PATH.`,
  );
}

const SCREENSHOT = path.resolve("test-output/playground.png");
const FAILURE_SCREENSHOT = path.resolve("test-output/playground-failure.png");
const EDITOR_SETTLE_MS = 300;
const BROWSER_HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on("error", reject)
      .end();
  });
}

describe("GraphQL playground (PLAYGROUND=true, the default)", () => {
  const t = useServer();
  let origin: string;
  beforeAll(() => {
    origin = new URL(t.url).origin;
  });

  it("serves the page to a browser on GET /graphql and GET /, with a strict CSP and only local assets", async () => {
    for (const url of [t.url, `${origin}/`]) {
      const response = await fetch(url, { headers: { accept: BROWSER_HTML_ACCEPT } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp).not.toMatch(/https?:/);
      const html = await response.text();
      expect(html).toContain('id="graphiql"');
      // Every script and stylesheet is a root-relative URL on this service.
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThanOrEqual(5);
      for (const ref of refs) expect(ref === "data:," || ref.startsWith("/playground/assets/"), ref).toBe(true);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    }
  });

  it("serves each asset from node_modules with year-long immutable caching, gzip and 304s", async () => {
    for (const asset of Object.values(PLAYGROUND_ASSETS)) {
      const response = await fetch(`${origin}${asset.url}`);
      expect(response.status, asset.url).toBe(200);
      expect(response.headers.get("content-type")).toBe(asset.contentType);
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(50);
      // node:http, not fetch: fetch adds "Cache-Control: no-cache" to conditional requests.
      const again = await rawGet(`${origin}${asset.url}`, { "if-none-match": response.headers.get("etag")! });
      expect(again.status).toBe(304);
    }
    // Compressed on the wire when the client accepts gzip.
    const raw = await rawGet(`${origin}${PLAYGROUND_ASSETS.graphiqlJs.url}`, { "accept-encoding": "gzip, deflate, br" });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gunzipSync(raw.body).toString("utf8")).toContain("window.GraphiQL");
    expect((await fetch(`${origin}/playground/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${origin}/playground/assets/nothing.js`)).status).toBe(404);
  });

  it("leaves API calls on /graphql to the GraphQL handler", async () => {
    // GET without Accept: text/html (curl, API clients) falls through to Apollo.
    for (const accept of ["application/json", "*/*", "application/graphql-response+json, text/html;q=0.5"]) {
      const response = await fetch(t.url, { headers: { accept } });
      expect(response.headers.get("content-type") ?? "", accept).not.toMatch(/text\/html/);
    }
    // A GET with a query is an operation, even from a browser.
    const withQuery = await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { accept: BROWSER_HTML_ACCEPT, "apollo-require-preflight": "true" },
    });
    expect(withQuery.headers.get("content-type")).not.toMatch(/text\/html/);
    expect(await withQuery.json()).toEqual({ data: { __typename: "Query" } });
    // POST is untouched.
    expect((await t.admin.ok("{ me { name } }")).me.name).toBe("admin");
  });

  describe("in headless Chromium", () => {
    let browser: Browser | undefined;
    beforeAll(async () => {
      if (!haveChromium) return;
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
    });
    afterAll(() => browser?.close());

    const editorValue = (page: Page, selector: string) =>
      page.evaluate((sel) => (document.querySelector(sel) as any)?.CodeMirror?.getValue() as string | undefined, selector);
    const setEditorValue = (page: Page, selector: string, value: string) =>
      page.evaluate(
        ([sel, text]) => {
          const cm = (document.querySelector(sel!) as any)?.CodeMirror;
          if (!cm) throw new Error(`no CodeMirror at ${sel}`);
          cm.setValue(text);
        },
        [selector, value] as const,
      );

    it.skipIf(!haveChromium)(
      "loads offline, authenticates, runs a query and a mutation, shows the docs, and never leaves the machine",
      async () => {
        const context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
        const requests: string[] = [];
        const external: string[] = [];
        context.on("request", (request) => requests.push(request.url()));
        // Offline: anything not for this server is recorded and refused.
        await context.route(
          () => true,
          (route) => {
            const url = new URL(route.request().url());
            if (url.origin === origin) return route.continue();
            external.push(url.href);
            return route.abort("internetdisconnected");
          },
        );
        await context.addInitScript(() => {
          (window as any).__cspViolations = [];
          document.addEventListener("securitypolicyviolation", (e) =>
            (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
          );
        });
        const page = await context.newPage();
        const consoleErrors: string[] = [];
        page.on("console", (message) => {
          if (message.type() === "error") consoleErrors.push(message.text());
        });
        page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
        const websockets: string[] = [];
        page.on("websocket", (ws) => websockets.push(ws.url()));

        try {
          const response = await page.goto(t.url, { waitUntil: "load" });
          expect(response?.status()).toBe(200);
          const queryEditor = ".graphiql-query-editor .CodeMirror";
          const responseEditor = ".graphiql-response .CodeMirror";
          await page.waitForSelector(queryEditor, { timeout: 30_000 });

          // The schema docs load before any token is pasted (anonymous introspection; the
          // placeholder token is not sent) and are browsable.
          await page.click('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
          await page.waitForSelector(".graphiql-doc-explorer-root-type", { timeout: 15_000 });
          await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name:text-is("Query")');
          await page.waitForSelector('.graphiql-doc-explorer-field-name:text-is("me")');
          expect(await page.textContent(".graphiql-doc-explorer")).toContain("The caller.");
          await page.click(".graphiql-doc-explorer-back");
          await page.waitForSelector(".graphiql-doc-explorer-root-type");

          // Dialogs work under the CSP (they inject a <style>: style-src needs 'unsafe-inline').
          await page.click('.graphiql-sidebar button[aria-label="Open settings dialog"]');
          await page.waitForSelector('[role="dialog"]:has-text("Settings")');
          await page.keyboard.press("Escape");
          await page.waitForSelector('[role="dialog"]', { state: "detached" });

          // The headers editor: its own tab, prefilled with the Authorization template.
          await page.click('.graphiql-editor-tools button[data-name="headers"]');
          const headersEditor = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
          await page.waitForSelector(headersEditor);
          expect(await editorValue(page, headersEditor)).toContain('"Authorization": "Bearer <paste your token>"');
          await setEditorValue(page, headersEditor, JSON.stringify({ Authorization: `Bearer ${t.adminToken}` }, null, 2));
          await page.waitForTimeout(EDITOR_SETTLE_MS); // past the editor's 100 ms debounce

          const run = async (operation: string, expectInResponse: string) => {
            await setEditorValue(page, responseEditor, "");
            await setEditorValue(page, queryEditor, operation);
            // GraphiQL parses the editor after a 100 ms debounce; executing earlier would send the
            // previous operation name.
            const name = /^(?:query|mutation|subscription)\s+(\w+)/m.exec(operation)?.[1] ?? null;
            await page.waitForFunction(
              ([sel, expected]) => (document.querySelector(sel!) as any)?.CodeMirror?.operationName === expected,
              [queryEditor, name] as const,
            );
            await page.waitForTimeout(EDITOR_SETTLE_MS);
            await page.click(".graphiql-execute-button");
            await page.waitForFunction(
              ([sel, needle]) => ((document.querySelector(sel!) as any)?.CodeMirror?.getValue() ?? "").includes(needle!),
              [responseEditor, expectInResponse] as const,
              { timeout: 15_000 },
            );
            return JSON.parse((await editorValue(page, responseEditor))!);
          };

          const me = await run("query Me {\n  me {\n    name\n  }\n}\n", '"name"');
          expect(me).toEqual({ data: { me: { name: "admin" } } });

          const created = await run(
            'mutation CreateProject {\n  createProject(input: { name: "from-the-playground", description: "Created in GraphiQL" }) {\n    project {\n      id\n      name\n    }\n    userErrors {\n      code\n      message\n    }\n  }\n}\n',
            '"createProject"',
          );
          expect(created.errors).toBeUndefined();
          expect(created.data.createProject.userErrors).toEqual([]);
          expect(created.data.createProject.project.name).toBe("from-the-playground");
          // The mutation really happened on the server.
          const check = await t.admin.ok(`{ project(name: "from-the-playground") { id } }`);
          expect(check.project.id).toBe(created.data.createProject.project.id);

          await mkdir(path.dirname(SCREENSHOT), { recursive: true });
          await page.screenshot({ path: SCREENSHOT });

          expect(consoleErrors).toEqual([]);
          expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);

          // Subscriptions go over graphql-ws to the same origin: the CSP lets that through.
          await page.evaluate((url) => {
            const ws = new WebSocket(url);
            ws.onerror = () => ws.close();
          }, t.url.replace(/^http/, "ws"));
          await page.waitForTimeout(300);
          expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
        } catch (error) {
          await mkdir(path.dirname(FAILURE_SCREENSHOT), { recursive: true });
          await page.screenshot({ path: FAILURE_SCREENSHOT }).catch(() => undefined);
          console.error("playground browser test failed; console errors:", consoleErrors, "requests:", requests, "screenshot:", FAILURE_SCREENSHOT);
          throw error;
        } finally {
          await context.close();
        }

        expect(external).toEqual([]);
        expect(requests.length).toBeGreaterThanOrEqual(6); // page, 4 scripts, 2 stylesheets, POSTs
        for (const url of [...requests, ...websockets]) {
          const parsed = new URL(url);
          if (parsed.protocol === "data:" || parsed.protocol === "blob:") continue;
          expect(parsed.host, url).toBe(new URL(origin).host);
        }
      },
      120_000,
    );
  });
});

describe("GraphQL playground with PLAYGROUND=false", () => {
  const t = useServer({ PLAYGROUND: "false" });

  it("serves no page and no assets", async () => {
    const origin = new URL(t.url).origin;
    const page = await fetch(t.url, { headers: { accept: BROWSER_HTML_ACCEPT } });
    expect(page.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    const body = await page.text();
    expect(body.toLowerCase()).not.toContain("<html");
    expect(body).not.toContain("graphiql");

    const root = await fetch(`${origin}/`, { headers: { accept: BROWSER_HTML_ACCEPT } });
    expect(root.status).toBe(404);
    expect(await root.text()).not.toContain("graphiql");
    expect((await fetch(`${origin}${PLAYGROUND_ASSETS.graphiqlJs.url}`)).status).toBe(404);
    // The API itself still answers.
    expect((await t.admin.ok("{ me { name } }")).me.name).toBe("admin");
  });
});

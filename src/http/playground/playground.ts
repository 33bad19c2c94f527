// The GraphQL playground: GraphiQL 3 served entirely by this service, so it works with no
// internet (no CDN, no web fonts). GraphiQL's prebuilt browser bundle (graphiql.min.js/.css, with
// its fonts inlined as data: URLs and graphql-ws's client bundled in) runs on React 18's UMD
// builds; all four files come from the installed npm packages, plus a start-up script and a style
// sheet of our own (static/start.js and static/page.css: files, so the Content-Security-Policy
// needs no inline script).
//
// Served for `GET /` and for a browser's `GET <graphqlPath>` (Accept prefers text/html, no
// `query`/`extensions` parameter); every other request on <graphqlPath> falls through to the
// GraphQL handler.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import express, { type Request, type Response } from "express";
import { LRUCache } from "lru-cache";

const gzip = promisify(gzipCallback);
const require = createRequire(import.meta.url);

export const PLAYGROUND_ASSET_PREFIX = "/playground/assets";

export interface PlaygroundAsset {
  /** URL path the asset is served under (versioned, so it can be cached for a year). */
  url: string;
  contentType: string;
  /** Absolute path of the file (in node_modules, or ours in src/http/playground/static). */
  file: string;
}

function packageDir(name: string): string {
  // react/react-dom have an "exports" map without ./umd/*, but all three export package.json.
  return path.dirname(require.resolve(`${name}/package.json`));
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

/** Our own assets, kept as files in src/ (tsc copies no .js or .css); `dist/` finds them through the package root. */
const STATIC_DIR = path.join(packageRoot(path.dirname(fileURLToPath(import.meta.url))), "src/http/playground/static");

/** The nearest folder at or above `dir` with a package.json: the repository root, from src/ and from dist/src/ alike. */
function packageRoot(dir: string): string {
  for (let current = dir; ; current = path.dirname(current)) {
    if (existsSync(path.join(current, "package.json"))) return current;
    if (path.dirname(current) === current) throw new Error(`No package.json above ${dir}`);
  }
}

function buildAssets() {
  const graphiql = packageDir("graphiql");
  const react = packageDir("react");
  const reactDom = packageDir("react-dom");
  const graphiqlVersion = packageVersion("graphiql");
  const hash = (content: Buffer) => createHash("sha256").update(content).digest("hex").slice(0, 12);
  // Hashed into their URLs, so a changed file is a new URL despite the year-long caching.
  const pageCssFile = path.join(STATIC_DIR, "page.css");
  const startFile = path.join(STATIC_DIR, "start.js");
  const pageCss = readFileSync(pageCssFile);
  const startScript = readFileSync(startFile);
  const js = "text/javascript; charset=utf-8";
  return {
    react: {
      url: `${PLAYGROUND_ASSET_PREFIX}/react-${packageVersion("react")}.production.min.js`,
      contentType: js,
      file: path.join(react, "umd/react.production.min.js"),
    },
    reactDom: {
      url: `${PLAYGROUND_ASSET_PREFIX}/react-dom-${packageVersion("react-dom")}.production.min.js`,
      contentType: js,
      file: path.join(reactDom, "umd/react-dom.production.min.js"),
    },
    graphiqlJs: {
      url: `${PLAYGROUND_ASSET_PREFIX}/graphiql-${graphiqlVersion}.min.js`,
      contentType: js,
      file: path.join(graphiql, "graphiql.min.js"),
    },
    graphiqlCss: {
      url: `${PLAYGROUND_ASSET_PREFIX}/graphiql-${graphiqlVersion}.min.css`,
      contentType: "text/css; charset=utf-8",
      file: path.join(graphiql, "graphiql.min.css"),
    },
    pageCss: {
      url: `${PLAYGROUND_ASSET_PREFIX}/playground-${hash(pageCss)}.css`,
      contentType: "text/css; charset=utf-8",
      file: pageCssFile,
    },
    start: {
      url: `${PLAYGROUND_ASSET_PREFIX}/playground-${hash(startScript)}.js`,
      contentType: js,
      file: startFile,
    },
  } satisfies Record<string, PlaygroundAsset>;
}

/** The files the playground page loads, all served by this service. */
export const PLAYGROUND_ASSETS: Readonly<Record<keyof ReturnType<typeof buildAssets>, PlaygroundAsset>> = buildAssets();

/**
 * Only this origin: scripts and styles from our own files, fonts and icons as data: URLs
 * (GraphiQL's CSS inlines its fonts), fetch/WebSocket to this origin ('self' covers ws:/wss: to
 * the same host in CSP 3). Styles need 'unsafe-inline': GraphiQL's dialogs (settings, short keys;
 * Radix + react-remove-scroll-bar) inject a <style> element with computed values, so a hash
 * cannot work. Scripts get no 'unsafe-inline' and no 'unsafe-eval'.
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderPage(graphqlPath: string): string {
  const a = PLAYGROUND_ASSETS;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>backend-hub GraphQL playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${a.graphiqlCss.url}">
<link rel="stylesheet" href="${a.pageCss.url}">
</head>
<body>
<div id="graphiql" data-graphql-path="${escapeHtml(graphqlPath)}">Loading the playground&hellip;</div>
<noscript>The GraphQL playground needs JavaScript. The API itself is at ${escapeHtml(graphqlPath)} (POST, application/json).</noscript>
<script src="${a.react.url}"></script>
<script src="${a.reactDom.url}"></script>
<script src="${a.graphiqlJs.url}"></script>
<script src="${a.start.url}"></script>
</body>
</html>
`;
}

interface LoadedAsset {
  contentType: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

async function load(contentType: string, body: Buffer): Promise<LoadedAsset> {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { contentType, body, gzipped: await gzip(body, { level: 9 }), etag };
}

const YEAR_SECONDS = 365 * 24 * 60 * 60;

function setPageHeaders(res: Response): void {
  res.setHeader("Content-Security-Policy", PLAYGROUND_CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
}

function sendAsset(req: Request, res: Response, asset: LoadedAsset, cacheControl: string): void {
  res.setHeader("Content-Type", asset.contentType);
  res.setHeader("Cache-Control", cacheControl);
  res.setHeader("ETag", asset.etag);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.vary("Accept-Encoding");
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  const useGzip = req.acceptsEncodings("gzip", "identity") === "gzip";
  const body = useGzip ? asset.gzipped : asset.body;
  if (useGzip) res.setHeader("Content-Encoding", "gzip");
  res.setHeader("Content-Length", String(body.length));
  res.end(req.method === "HEAD" ? undefined : body);
}

/** True for a browser navigating to the GraphQL endpoint (not an API call made with GET). */
function wantsPage(req: Request): boolean {
  const query = req.query as Record<string, unknown>;
  if (query.query !== undefined || query.extensions !== undefined) return false;
  // Browsers send "text/html,...,*/*;q=0.8": text/html wins. curl's "*/*" and API clients'
  // "application/json" pick the JSON types, which are listed first.
  return req.accepts(["application/graphql-response+json", "application/json", "text/html"]) === "text/html";
}

export interface PlaygroundOptions {
  /** Where the GraphQL endpoint is mounted, e.g. "/graphql". */
  graphqlPath: string;
}

/**
 * Serves the playground page on `GET /` and on a browser's `GET <graphqlPath>`, and its assets
 * under /playground/assets/ with year-long immutable caching. Mount it before the GraphQL handler.
 */
export function playgroundRouter(options: PlaygroundOptions): express.Router {
  const { graphqlPath } = options;
  const router = express.Router();
  const page = Buffer.from(renderPage(graphqlPath));
  const pageEtag = `"${createHash("sha256").update(page).digest("base64url").slice(0, 27)}"`;
  const byUrl = new Map(Object.values(PLAYGROUND_ASSETS).map((asset) => [asset.url, asset]));
  // Each asset is read and compressed once, on first request; concurrent first requests share the
  // read, and a failed one is tried again next time.
  const loaded = new LRUCache<string, LoadedAsset>({
    max: byUrl.size,
    fetchMethod: async (url) => {
      const asset = byUrl.get(url)!;
      return load(asset.contentType, await readFile(asset.file));
    },
  });

  const servePage = (req: Request, res: Response) => {
    setPageHeaders(res);
    res.vary("Accept");
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("ETag", pageEtag);
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.setHeader("Content-Length", String(page.length));
    res.end(req.method === "HEAD" ? undefined : page);
  };

  router.get("/", servePage);
  router.get(graphqlPath, (req, res, next) => {
    // The answer depends on Accept either way; caches must keep the two apart.
    res.vary("Accept");
    if (wantsPage(req)) servePage(req, res);
    else next();
  });
  router.get(`${PLAYGROUND_ASSET_PREFIX}/:file`, async (req, res, next) => {
    if (!byUrl.has(req.path)) {
      next();
      return;
    }
    try {
      // Every asset URL carries a version or a content hash, so it never changes.
      sendAsset(req, res, (await loaded.fetch(req.path))!, `public, max-age=${YEAR_SECONDS}, immutable`);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

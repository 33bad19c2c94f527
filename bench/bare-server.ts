// The floor for the read-path benchmark: node:http + pg and nothing else. It answers the one
// benchmarked operation, `query($id: ID) { project(id: $id) { backends { edges { node { aws {
// region bucket } } } } } }`, with the same bytes as the full stack, by running the same SQL
// statements (imported from the product's code; read-path.ts checks that the full stack sent
// exactly these) with the same checks: the token and its user (sha-256, revoked, expired,
// lastUsedAt once a minute), the project with the caller's membership (or global admin), the
// project's backends.
import { createHash } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { PROJECT_BACKENDS_SQL } from "../src/graphql/loaders.js";
import { PROJECT_ACCESS_SQL } from "../src/projects/project-access.js";
import { TOKEN_VIEWER_SQL, TOUCH_TOKEN_SQL } from "../src/users/tokens.service.js";

/** The product's own statement texts, imported so the floor cannot drift from them. */
export const BARE_SQL = {
  tokenViewer: TOKEN_VIEWER_SQL,
  projectAccess: PROJECT_ACCESS_SQL,
  backends: PROJECT_BACKENDS_SQL,
  touchToken: TOUCH_TOKEN_SQL,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`; // Apollo ends its JSON with a newline too
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const unauthenticated = (message: string) => ({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] });

export function startBareServer(databaseUrl: string, port: number, poolSize = 10): Promise<http.Server> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  pool.on("error", () => undefined);

  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== "POST") return send(res, 405, { errors: [{ message: "POST only", extensions: { code: "BAD_REQUEST" } }] });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { variables } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { variables?: { id?: string } };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!match) return send(res, 401, unauthenticated("Authentication required."));
    const hash = createHash("sha256").update(match[1], "utf8").digest("hex");
    const token = (await pool.query(BARE_SQL.tokenViewer, [hash])).rows[0];
    const now = new Date();
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return send(res, 401, unauthenticated("The API token is unknown, revoked or expired."));
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) await pool.query(BARE_SQL.touchToken, [now.toISOString(), token.id]);
    const id = variables?.id;
    let project = null;
    if (id && UUID.test(id)) {
      const found = (await pool.query(BARE_SQL.projectAccess, [id, token.userId])).rows[0];
      if (found && (found.memberRole || token.globalRole === "ADMIN")) {
        const backends = (await pool.query(BARE_SQL.backends, [[id]])).rows;
        project = { backends: { edges: backends.map((row) => ({ node: { aws: { region: row.awsRegion, bucket: row.awsBucket } } })) } };
      }
    }
    send(res, 200, { data: { project } });
  }

  const server = http.createServer((req, res) => {
    answer(req, res).catch(() => send(res, 500, { errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }));
  });
  server.on("close", () => void pool.end());
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

// `node dist/bench/bare-server.js`: DATABASE_URL and PORT from the environment.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startBareServer(process.env.DATABASE_URL!, Number(process.env.PORT));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  process.stdout.write("ready\n");
}

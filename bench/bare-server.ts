// The floor for the read-path benchmark: node:http + pg and nothing else. It answers the one
// benchmarked operation, `query($id: ID) { project(id: $id) { backends { edges { node { aws {
// region bucket } } } } } }`, with the same bytes as the full stack, by running the same SQL
// statements (the text Prisma sends, captured from the full stack; main.ts checks they still
// match) with the same checks: the token (sha-256, revoked, expired, lastUsedAt once a minute),
// its user, the project, the caller's membership (or global admin), the project's backends.
import { createHash } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import pg from "pg";

export const BARE_SQL = {
  token:
    'SELECT "public"."ApiToken"."id", "public"."ApiToken"."userId", "public"."ApiToken"."name", "public"."ApiToken"."prefix", "public"."ApiToken"."tokenHash", "public"."ApiToken"."createdAt", "public"."ApiToken"."lastUsedAt", "public"."ApiToken"."expiresAt", "public"."ApiToken"."revokedAt" FROM "public"."ApiToken" WHERE ("public"."ApiToken"."tokenHash" = $1 AND 1=1) LIMIT $2 OFFSET $3',
  user: 'SELECT "public"."User"."id", "public"."User"."name", "public"."User"."globalRole"::text, "public"."User"."createdAt", "public"."User"."updatedAt" FROM "public"."User" WHERE "public"."User"."id" = $1 OFFSET $2',
  project:
    'SELECT "public"."Project"."id", "public"."Project"."name", "public"."Project"."description", "public"."Project"."createdAt", "public"."Project"."updatedAt", "public"."Project"."maxHourlySpend", "public"."Project"."maxLiveInstances", "public"."Project"."defaultMaxDurationMinutes" FROM "public"."Project" WHERE ("public"."Project"."id" = $1 AND 1=1) LIMIT $2 OFFSET $3',
  member:
    'SELECT "public"."ProjectMember"."projectId", "public"."ProjectMember"."userId", "public"."ProjectMember"."role"::text, "public"."ProjectMember"."createdAt" FROM "public"."ProjectMember" WHERE ("public"."ProjectMember"."userId" = $1 AND "public"."ProjectMember"."projectId" = $2) OFFSET $3',
  backends:
    'SELECT "public"."Backend"."id", "public"."Backend"."projectId", "public"."Backend"."name", "public"."Backend"."type"::text, "public"."Backend"."status"::text, "public"."Backend"."awsRegion", "public"."Backend"."awsBucket", "public"."Backend"."awsSubnetId", "public"."Backend"."awsCredentialsMode"::text, "public"."Backend"."awsAccessKeyIdHint", "public"."Backend"."awsAccountId", "public"."Backend"."credentialsSecretName", "public"."Backend"."sealedCredentials", "public"."Backend"."settings", "public"."Backend"."deleteRequestedAt", "public"."Backend"."createdAt", "public"."Backend"."updatedAt", "public"."Backend"."lastReconciledAt" FROM "public"."Backend" WHERE "public"."Backend"."projectId" IN ($1) ORDER BY "public"."Backend"."createdAt" ASC, "public"."Backend"."id" ASC OFFSET $2',
  touchToken: 'UPDATE "public"."ApiToken" SET "lastUsedAt" = $1 WHERE "id" = $2',
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
    const token = (await pool.query(BARE_SQL.token, [hash, 1, 0])).rows[0];
    const now = new Date();
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return send(res, 401, unauthenticated("The API token is unknown, revoked or expired."));
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) await pool.query(BARE_SQL.touchToken, [now, token.id]);
    const user = (await pool.query(BARE_SQL.user, [token.userId, 0])).rows[0];
    const id = variables?.id;
    let project = null;
    if (id && UUID.test(id)) {
      const found = (await pool.query(BARE_SQL.project, [id, 1, 0])).rows[0];
      if (found) {
        const member = (await pool.query(BARE_SQL.member, [user.id, id, 0])).rows[0];
        if (member || user.globalRole === "ADMIN") {
          const backends = (await pool.query(BARE_SQL.backends, [id, 0])).rows;
          project = { backends: { edges: backends.map((row) => ({ node: { aws: { region: row.awsRegion, bucket: row.awsBucket } } })) } };
        }
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

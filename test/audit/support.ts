// Shared pieces of the audit log tests: GraphQL documents, and the audit tables read (or
// tampered with) directly, as a database superuser would, behind the service's back.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { withDb } from "../backends/support.js";

export const EVENT_FIELDS = "id at actor { id name } tokenPrefix clientAddress project { id } operation targetIds outcome codes requestId count";
export const EVENTS = `query($projectId: ID, $filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(projectId: $projectId, filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${EVENT_FIELDS} } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
export const VERIFY = "{ verifyAuditChain { intact checkedEvents startPosition headPosition headHash firstBroken { eventId position problem } } }";
export const UPDATE_PROJECT = `mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { project { id } userErrors { code field message } } }`;
export const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name } userErrors { code field message } } }`;

export interface AuditRow {
  id: string;
  seq: string;
  at: Date;
  actorId: string | null;
  tokenPrefix: string | null;
  clientAddress: string | null;
  projectId: string | null;
  operation: string;
  targetIds: string[];
  outcome: string;
  codes: string[];
  requestId: string | null;
  count: number;
  prevHash: string;
  hash: string;
}

// `at` is a timestamp without time zone holding UTC (Prisma's convention): read as UTC whatever TZ is.
const ROW_COLUMNS = `id, seq::text AS seq, to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, "actorId", "tokenPrefix", "clientAddress", "projectId", operation, "targetIds", outcome::text AS outcome,
  codes, "requestId", count, "prevHash", hash`;

/** Every audit row, oldest first (seq as a string: it is a bigint). */
export function auditRows(databaseUrl: string): Promise<AuditRow[]> {
  return withDb(databaseUrl, async (db) =>
    (await db.query(`SELECT ${ROW_COLUMNS} FROM "AuditEvent" ORDER BY "AuditEvent".seq`)).rows.map((row) => ({ ...row, at: new Date(row.at) }) as AuditRow),
  );
}

/** Runs SQL as the test run's superuser on the server's database. */
export function sql(databaseUrl: string, text: string, params: unknown[] = []) {
  return withDb(databaseUrl, (db) => db.query(text, params));
}

/** Runs `text` with the append-only trigger off, as someone with the database's keys could. */
export function behindTheServicesBack(databaseUrl: string, text: string, params: unknown[] = []) {
  return withDb(databaseUrl, async (db) => {
    await db.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"`);
    try {
      return await db.query(text, params);
    } finally {
      await db.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_append_only"`);
    }
  });
}

/** One operation over graphql-ws (the WebSocket door), as `token`. */
export async function overWebSocket(httpUrl: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const client = createClient({
    url: httpUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  try {
    return await new Promise((resolve, reject) => {
      let result: unknown;
      client.subscribe({ query, variables }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
    });
  } finally {
    await client.dispose();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

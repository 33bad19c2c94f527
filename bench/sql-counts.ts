// 2) No N+1: SQL statements behind the nested projects page, for 1 and for 100 projects, and the
// rows the last-run lookup reads when every backend has a history of runs.
import { countSql, N_PLUS_ONE_QUERY, seedProjectsSql } from "../test/hardening/sql-counter.js";
import { createDatabase, gql, median, round, startInProcess, withDb } from "./lib.js";

export interface SqlCountsResult {
  query: string;
  one: number;
  hundred: number;
  statements: string[];
  hundredMs: number;
  history: { runsPerBackend: number; runRowsRead: number; stepRowsRead: number; ms: number };
}

export async function sqlCounts(clusterUrl: string, log: (line: string) => void): Promise<SqlCountsResult> {
  const databaseUrl = await createDatabase(clusterUrl, "bench_n1");
  const server = await startInProcess(databaseUrl);
  const counter = countSql(server.database.pool);
  try {
    const adminId: string = (await gql(server.url, "{ me { id } }")).me.id;
    const measure = async (query: string) => {
      await gql(server.url, "{ me { id } }");
      return counter.count(() => gql(server.url, query));
    };
    await withDb(databaseUrl, (db) => db.query(seedProjectsSql(1, adminId, "one")));
    const one = await measure(N_PLUS_ONE_QUERY);
    await withDb(databaseUrl, (db) => db.query(seedProjectsSql(99, adminId, "many")));
    const hundred = await measure(N_PLUS_ONE_QUERY);
    if (hundred.result.projects.edges.length !== 100) throw new Error("expected 100 projects");
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      await gql(server.url, N_PLUS_ONE_QUERY);
      times.push(performance.now() - started);
    }
    log(`  ${one.statements.length} statements for 1 project, ${hundred.statements.length} for 100 (${round(median(times))} ms for 100)`);

    // 20 older runs of 6 steps for every backend: lastRun must still read one run per backend.
    const runsPerBackend = 21;
    await withDb(databaseUrl, (db) =>
      db.query(`
        WITH r AS (
          INSERT INTO "ProvisioningRun" (id, "backendId", kind, status, "createdAt")
          SELECT gen_random_uuid(), b.id, 'TEARDOWN', 'FAILED', now() - n * interval '1 hour' FROM "Backend" b, generate_series(1, ${runsPerBackend - 1}) AS n
          RETURNING id
        )
        INSERT INTO "ProvisioningStep" (id, "runId", position, name) SELECT gen_random_uuid(), id, p, 'step-' || p FROM r, generate_series(0, 5) AS p`),
    );
    const historyQuery = "{ projects(first: 100) { edges { node { backends { edges { node { lastRun { status steps { name } } } } } } } } }";
    const history = await measure(historyQuery);
    const runRows = history.details.find((statement) => /"ProvisioningRun"/.test(statement.sql))?.rows ?? -1;
    const stepRows = history.details.find((statement) => /"ProvisioningStep"/.test(statement.sql))?.rows ?? -1;
    const historyTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      await gql(server.url, historyQuery);
      historyTimes.push(performance.now() - started);
    }
    log(`  with ${runsPerBackend} runs per backend: lastRun read ${runRows} run rows and ${stepRows} step rows (${round(median(historyTimes))} ms)`);
    return {
      query: N_PLUS_ONE_QUERY,
      one: one.statements.length,
      hundred: hundred.statements.length,
      statements: one.statements,
      hundredMs: round(median(times)),
      history: { runsPerBackend, runRowsRead: runRows, stepRowsRead: stepRows, ms: round(median(historyTimes)) },
    };
  } finally {
    counter.stop();
    await server.close();
  }
}

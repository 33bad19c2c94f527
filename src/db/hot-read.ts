// The few statements that most requests run go to pg directly (Prisma's query planning and result
// mapping cost about three times pg's own CPU per statement; see docs/performance.md). Rows come
// back as Prisma would give them: Prisma stores DateTime as \`timestamp(3)\` without a time zone,
// in UTC, which pg would otherwise read as local time.
import pg from "pg";

export type Queryable = Pick<pg.Pool, "query">;

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;
const utcTimestamp = (value: string) => new Date(`${value.replace(" ", "T")}Z`);

const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_WITHOUT_TIME_ZONE ? utcTimestamp : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function hotRead<Row extends pg.QueryResultRow>(pool: Queryable, text: string, values: unknown[]): Promise<Row[]> {
  return (await pool.query<Row>({ text, values, types })).rows;
}

// No drift between prisma/schema.prisma and the database that prisma/migrations produce.
//
// The schema is read by Prisma's own parser: the prisma-schema WASM module that ships inside the
// `prisma` CLI package (node_modules/prisma/build/prisma_schema_build_bg.wasm), called through its
// `get_dmmf` export, so no hand-written parser can misread it. The migrated database is read from
// information_schema and pg_catalog. Both sides are turned into the same list of plain-text
// facts ("column User.name: text NOT NULL default=none", "foreign key …"), and the test
// demands that the two lists are identical. Whatever the DMMF contains that this file does not
// know how to translate (a native type, a default function, an index option…) throws, naming it,
// rather than being silently skipped.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/db/migrate.js";
import { createTestDatabase } from "../support/database.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCHEMA_FILE = path.join(ROOT, "prisma/schema.prisma");
const MIGRATIONS_DIR = path.join(ROOT, "prisma/migrations");
const SCHEMA_WASM = path.join(ROOT, "node_modules/prisma/build/prisma_schema_build_bg.wasm");
const GENERATED_CLIENT_CLASS = path.join(ROOT, "src/generated/prisma/internal/class.ts");

// ---------------------------------------------------------------------------------------------
// Prisma's schema parser (wasm-bindgen module) with the four imports it needs.

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType: [string, string[]] | null;
  default?: unknown;
  isUpdatedAt: boolean;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
  [key: string]: unknown;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
  [key: string]: unknown;
}
interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  isDefinedOnField: boolean;
  name?: string | null;
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}
interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: { name: string; dbName: string | null }[];
}
interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  types: unknown[];
  indexes: DmmfIndex[];
}

async function loadSchemaParser(): Promise<(schema: string) => Datamodel> {
  const bytes = await readFile(SCHEMA_WASM);
  let exports: any;
  let panicMessage = "";
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const text = (ptr: number, len: number) => decoder.decode(new Uint8Array(exports.memory.buffer, ptr >>> 0, len));
  // wasm-bindgen suffixes its import names with a hash that changes between builds: match by stem.
  const shims: [string, (...args: number[]) => unknown][] = [
    ["__wbg_set_message_", (ptr, len) => void (panicMessage = text(ptr, len))],
    ["__wbg_Error_", (ptr, len) => new Error(text(ptr, len))],
    [
      "__wbg___wbindgen_throw_",
      (ptr, len) => {
        throw new Error(text(ptr, len));
      },
    ],
    [
      "__wbindgen_init_externref_table",
      () => {
        const table = exports.__wbindgen_externrefs as WebAssembly.Table;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      },
    ],
  ];
  const module = new WebAssembly.Module(bytes);
  const imports: Record<string, Record<string, unknown>> = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    const shim = shims.find(([stem]) => entry.name.startsWith(stem));
    if (!shim) throw new Error(`prisma-schema wasm needs an import this test does not provide: ${entry.module}.${entry.name} (Prisma upgraded?)`);
    (imports[entry.module] ??= {})[entry.name] = shim[1];
  }
  exports = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports;
  exports.__wbindgen_start();

  return (schema: string) => {
    const params = new TextEncoder().encode(JSON.stringify({ prismaSchema: [["schema.prisma", schema]], noColor: true }));
    const ptr = exports.__wbindgen_malloc(params.length, 1) >>> 0;
    new Uint8Array(exports.memory.buffer, ptr, params.length).set(params);
    let result: [number, number, number, number];
    try {
      result = exports.get_dmmf(ptr, params.length);
    } catch (error) {
      throw new Error(`prisma-schema wasm panicked: ${panicMessage || (error as Error).message}`);
    }
    const [outPtr, outLen, errorRef, failed] = result;
    if (failed) {
      const error = exports.__wbindgen_externrefs.get(errorRef);
      exports.__externref_table_dealloc(errorRef);
      throw error instanceof Error ? error : new Error(String(error));
    }
    try {
      return JSON.parse(text(outPtr, outLen)).datamodel as Datamodel;
    } finally {
      exports.__wbindgen_free(outPtr, outLen, 1);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Expected facts, from the DMMF, following Prisma's PostgreSQL conventions.

const KNOWN_MODEL_KEYS = new Set(["name", "dbName", "schema", "fields", "primaryKey", "uniqueFields", "uniqueIndexes", "isGenerated", "documentation"]);
const KNOWN_FIELD_KEYS = new Set([
  "name", "dbName", "kind", "isList", "isRequired", "isUnique", "isId", "isReadOnly", "hasDefaultValue", "type", "nativeType",
  "default", "isGenerated", "isUpdatedAt", "relationName", "relationFromFields", "relationToFields", "relationOnDelete",
  "relationOnUpdate", "documentation",
]);
const KNOWN_INDEX_KEYS = new Set(["model", "type", "isDefinedOnField", "fields", "name", "dbName"]);
/** Defaults Prisma computes in the client: the column has no database default. */
const CLIENT_SIDE_DEFAULTS = new Set(["uuid", "cuid", "nanoid", "ulid"]);
const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};
const PG_IDENTIFIER_MAX = 63;

class NotUnderstood extends Error {
  constructor(what: string) {
    super(`drift test does not understand ${what}; extend test/db/drift.test.ts before using it`);
  }
}

function onlyKnownKeys(object: object, known: Set<string>, where: string): void {
  for (const key of Object.keys(object)) if (!known.has(key)) throw new NotUnderstood(`"${key}" on ${where}`);
}

const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The column type as this test renders information_schema: see actualFacts. */
function expectedType(field: DmmfField, enums: Map<string, DmmfEnum>, where: string): string {
  if (field.isList) throw new NotUnderstood(`list field ${where}`);
  if (field.kind === "enum") return `enum ${enums.get(field.type)?.dbName ?? field.type}`;
  if (field.kind !== "scalar") throw new NotUnderstood(`field kind ${field.kind} at ${where}`);
  const [native, args] = field.nativeType ?? [null, []];
  switch (`${field.type}${native ? ` @db.${native}` : ""}`) {
    case "String":
    case "String @db.Text":
      return "text";
    case "String @db.Uuid":
      return "uuid";
    case "String @db.VarChar":
      return args.length ? `character varying(${args[0]})` : "character varying";
    case "DateTime":
      return "timestamp(3) without time zone";
    case "DateTime @db.Timestamp":
      return `timestamp(${args[0] ?? 6}) without time zone`;
    case "DateTime @db.Timestamptz":
      return `timestamp(${args[0] ?? 6}) with time zone`;
    case "Int":
    case "Int @db.Integer":
      return "integer";
    case "BigInt":
      return "bigint";
    case "Float":
    case "Float @db.DoublePrecision":
      return "double precision";
    case "Boolean":
      return "boolean";
    case "Json":
      return "jsonb";
    case "Bytes":
      return "bytea";
    default:
      throw new NotUnderstood(`type ${field.type}${native ? ` @db.${native}(${args.join(",")})` : ""} at ${where}`);
  }
}

/** The column default as PostgreSQL prints it (information_schema.columns.column_default). */
function expectedDefault(field: DmmfField, enums: Map<string, DmmfEnum>, where: string): string {
  if (!field.hasDefaultValue || field.default === undefined) return "none";
  const value = field.default;
  if (typeof value === "object" && value !== null && "name" in value) {
    const fn = (value as { name: string }).name;
    if (CLIENT_SIDE_DEFAULTS.has(fn)) return "none";
    if (fn === "now" && field.type === "DateTime") return "CURRENT_TIMESTAMP";
    throw new NotUnderstood(`default function ${fn}() at ${where}`);
  }
  if (field.kind === "enum" && typeof value === "string") {
    const enumName = enums.get(field.type)?.dbName ?? field.type;
    return `${quoteLiteral(value)}::"${enumName}"`;
  }
  if (field.type === "Json" && typeof value === "string") return `${quoteLiteral(value)}::jsonb`;
  if (field.type === "String" && field.nativeType === null && typeof value === "string") return `${quoteLiteral(value)}::text`;
  if (field.type === "Int" && typeof value === "number" && Number.isInteger(value) && value >= 0) return String(value);
  if (field.type === "Boolean" && typeof value === "boolean") return String(value);
  throw new NotUnderstood(`default ${JSON.stringify(value)} of a ${field.type} at ${where}`);
}

function constraintName(name: string): string {
  if (name.length > PG_IDENTIFIER_MAX) throw new NotUnderstood(`a default constraint name longer than ${PG_IDENTIFIER_MAX} characters (${name}): Prisma truncates it`);
  return name;
}

function expectedFacts(datamodel: Datamodel): string[] {
  if (datamodel.types.length) throw new NotUnderstood("composite types");
  const facts: string[] = [];
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  for (const e of datamodel.enums) facts.push(`enum ${e.dbName ?? e.name}: ${e.values.map((v) => v.dbName ?? v.name).join(", ")}`);

  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field) throw new Error(`field ${model.name}.${fieldName} not in the DMMF`);
    return field.dbName ?? field.name;
  };

  for (const model of datamodel.models) {
    onlyKnownKeys(model, KNOWN_MODEL_KEYS, `model ${model.name}`);
    if (model.schema) throw new NotUnderstood(`@@schema on ${model.name}`);
    const table = tableOf(model);
    facts.push(`table ${table}`);
    for (const field of model.fields) {
      const where = `${model.name}.${field.name}`;
      onlyKnownKeys(field, KNOWN_FIELD_KEYS, `field ${where}`);
      if (field.kind === "object") {
        const from = field.relationFromFields ?? [];
        if (!from.length) continue; // the back-relation side: no column
        const target = models.get(field.type)!;
        const columns = from.map((f) => columnOf(model, f));
        const refColumns = (field.relationToFields ?? []).map((f) => columnOf(target, f));
        const required = from.every((f) => model.fields.find((x) => x.name === f)!.isRequired);
        const onDelete = field.relationOnDelete ?? (required ? "Restrict" : "SetNull");
        const onUpdate = field.relationOnUpdate ?? "Cascade";
        const action = (name: string) => REFERENTIAL_ACTIONS[name] ?? (() => { throw new NotUnderstood(`referential action ${name} at ${where}`); })();
        facts.push(
          `foreign key ${constraintName(`${table}_${columns.join("_")}_fkey`)}: ${table}(${columns.join(", ")}) -> ${tableOf(target)}(${refColumns.join(", ")}) on delete ${action(onDelete)} on update ${action(onUpdate)}`,
        );
        continue;
      }
      const column = field.dbName ?? field.name;
      facts.push(
        `column ${table}.${column}: ${expectedType(field, enums, where)} ${field.isRequired ? "NOT NULL" : "NULL"} default=${expectedDefault(field, enums, where)}`,
      );
    }
  }

  for (const index of datamodel.indexes) {
    onlyKnownKeys(index, KNOWN_INDEX_KEYS, `an index of ${index.model}`);
    for (const field of index.fields) onlyKnownKeys(field, new Set(["name"]), `an index field of ${index.model}`);
    const model = models.get(index.model)!;
    const table = tableOf(model);
    const columns = index.fields.map((f) => columnOf(model, f.name));
    const suffix = { id: "pkey", unique: "key", normal: "idx" }[index.type as string];
    if (!suffix) throw new NotUnderstood(`index type ${index.type} on ${index.model}`);
    const name = index.dbName ?? constraintName(index.type === "id" ? `${table}_pkey` : `${table}_${columns.join("_")}_${suffix}`);
    const kind = { id: "primary key", unique: "unique index", normal: "index" }[index.type as string];
    facts.push(`${kind} ${name}: ${table}(${columns.join(", ")}) using btree`);
  }
  return facts.sort();
}

// ---------------------------------------------------------------------------------------------
// Actual facts, from the migrated database.

async function actualFacts(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const facts: string[] = [];
    const enums = await client.query<{ name: string; labels: string[] }>(`
      SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`);
    const enumNames = new Set(enums.rows.map((row) => row.name));
    for (const row of enums.rows) facts.push(`enum ${row.name}: ${row.labels.join(", ")}`);

    // Every relation in the schema: tables are facts; views, sequences etc. would be extras.
    const relations = await client.query<{ name: string; kind: string }>(`
      SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname <> '_prisma_migrations'`);
    for (const row of relations.rows) facts.push(row.kind === "r" ? `table ${row.name}` : `relation ${row.name} of kind ${row.kind}`);

    const columns = await client.query<{
      table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: "YES" | "NO"; column_default: string | null;
      character_maximum_length: number | null; datetime_precision: number | null; numeric_precision: number | null; numeric_scale: number | null;
    }>(`
      SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length,
             datetime_precision, numeric_precision, numeric_scale
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    for (const c of columns.rows) {
      let type: string;
      switch (c.data_type) {
        case "timestamp without time zone":
        case "timestamp with time zone":
          type = c.data_type.replace("timestamp", `timestamp(${c.datetime_precision})`);
          break;
        case "character varying":
          type = c.character_maximum_length === null ? c.data_type : `character varying(${c.character_maximum_length})`;
          break;
        case "numeric":
          type = `numeric(${c.numeric_precision},${c.numeric_scale})`;
          break;
        case "USER-DEFINED":
          type = enumNames.has(c.udt_name) ? `enum ${c.udt_name}` : `USER-DEFINED ${c.udt_name}`;
          break;
        case "ARRAY":
          type = `array ${c.udt_name}`;
          break;
        default:
          type = c.data_type;
      }
      facts.push(`column ${c.table_name}.${c.column_name}: ${type} ${c.is_nullable === "NO" ? "NOT NULL" : "NULL"} default=${c.column_default ?? "none"}`);
    }

    const indexes = await client.query<{ table: string; name: string; primary: boolean; unique: boolean; method: string; partial: boolean; expression: boolean; columns: string[] }>(`
      SELECT ct.relname AS table, ci.relname AS name, i.indisprimary AS primary, i.indisunique AS unique, am.amname AS method,
             i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS expression,
             ARRAY(
               SELECT a.attname || CASE WHEN (i.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END
               FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = ct.oid AND a.attnum = k.attnum
               ORDER BY k.ord
             )::text[] AS columns
      FROM pg_index i
      JOIN pg_class ci ON ci.oid = i.indexrelid
      JOIN pg_class ct ON ct.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = ct.relnamespace
      JOIN pg_am am ON am.oid = ci.relam
      WHERE n.nspname = 'public' AND ct.relname <> '_prisma_migrations'`);
    for (const ix of indexes.rows) {
      const kind = ix.primary ? "primary key" : ix.unique ? "unique index" : "index";
      const extras = `${ix.partial ? " partial" : ""}${ix.expression ? " on an expression" : ""}`;
      facts.push(`${kind} ${ix.name}: ${ix.table}(${ix.columns.join(", ")}) using ${ix.method}${extras}`);
    }

    const foreignKeys = await client.query<{ name: string; table: string; ref_table: string; columns: string[]; ref_columns: string[]; on_delete: string; on_update: string }>(`
      SELECT c.conname AS name, ct.relname AS table, rt.relname AS ref_table,
             ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
             ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS ref_columns,
             c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update
      FROM pg_constraint c
      JOIN pg_class ct ON ct.oid = c.conrelid
      JOIN pg_class rt ON rt.oid = c.confrelid
      JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = 'public'`);
    const ACTION: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };
    for (const fk of foreignKeys.rows) {
      facts.push(
        `foreign key ${fk.name}: ${fk.table}(${fk.columns.join(", ")}) -> ${fk.ref_table}(${fk.ref_columns.join(", ")}) on delete ${ACTION[fk.on_delete]} on update ${ACTION[fk.on_update]}`,
      );
    }

    // Constraints other than primary keys, foreign keys, unique (those are indexes too) and NOT
    // NULL (PostgreSQL 18 records those as constraints; nullability is checked per column): a
    // CHECK or EXCLUDE constraint would be something schema.prisma does not know about.
    const others = await client.query<{ name: string; table: string; definition: string }>(`
      SELECT c.conname AS name, ct.relname AS table, pg_get_constraintdef(c.oid) AS definition
      FROM pg_constraint c JOIN pg_class ct ON ct.oid = c.conrelid JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = 'public' AND c.contype NOT IN ('p', 'f', 'u', 'n') AND ct.relname <> '_prisma_migrations'`);
    for (const row of others.rows) facts.push(`constraint ${row.name} on ${row.table}: ${row.definition}`);
    return facts.sort();
  } finally {
    await client.end();
  }
}

function compare(expected: string[], actual: string[]) {
  const want = new Set(expected);
  const have = new Set(actual);
  return {
    inSchemaButNotInDatabase: expected.filter((fact) => !have.has(fact)),
    inDatabaseButNotInSchema: actual.filter((fact) => !want.has(fact)),
  };
}

// ---------------------------------------------------------------------------------------------

describe("schema.prisma and the migrations agree (no drift)", () => {
  let parse: (schema: string) => Datamodel;
  let datamodel: Datamodel;
  let expected: string[];
  const databases: { drop(): Promise<void> }[] = [];

  async function migratedDatabase(migrationsDir?: string): Promise<string> {
    const database = await createTestDatabase();
    databases.push(database);
    await migrate(database.url, { migrationsDir });
    return database.url;
  }

  beforeAll(async () => {
    parse = await loadSchemaParser();
    datamodel = parse(await readFile(SCHEMA_FILE, "utf8"));
    expected = expectedFacts(datamodel);
  });
  afterAll(async () => {
    await Promise.allSettled(databases.map((database) => database.drop()));
  });

  it("reads schema.prisma with Prisma's own parser, which rejects what is not valid", () => {
    expect(datamodel.models.length).toBeGreaterThan(5);
    expect(datamodel.models.map((m) => m.name)).toEqual(expect.arrayContaining(["User", "ApiToken", "Project", "ProjectMember"]));
    expect(() => parse("model Broken { id Strin @id }")).toThrow(/P1012|validat/i);
    // The facts cover every model, every column-backed field, every enum and index.
    const scalarFields = datamodel.models.flatMap((m) => m.fields.filter((f) => f.kind !== "object"));
    expect(expected.filter((fact) => fact.startsWith("column "))).toHaveLength(scalarFields.length);
    expect(expected.filter((fact) => fact.startsWith("table "))).toHaveLength(datamodel.models.length);
    expect(expected.filter((fact) => fact.startsWith("enum "))).toHaveLength(datamodel.enums.length);
  });

  it("fails loudly on schema features it cannot translate, instead of skipping them", () => {
    const base = `datasource db {\n  provider = "postgresql"\n}\n`;
    const cases: [string, RegExp][] = [
      [`model A {\n  id Int @id @default(autoincrement())\n}`, /default function autoincrement/],
      [`model A {\n  id String @id @db.Inet\n}`, /type String @db.Inet/],
      [`model A {\n  id String @id\n  tags String[]\n}`, /list field A.tags/],
      [`model A {\n  id String @id\n  at DateTime\n  @@index([at(sort: Desc)])\n}`, /"sortOrder" on an index field of A/],
    ];
    for (const [model, message] of cases) {
      expect(() => expectedFacts(parse(`${base}${model}\n`))).toThrow(message);
    }
  });

  it("the generated Prisma client was generated from this schema.prisma", async () => {
    const generated = await readFile(GENERATED_CLIENT_CLASS, "utf8");
    const match = /"inlineSchema": ("(?:[^"\\]|\\.)*")/.exec(generated);
    expect(match, "inlineSchema not found in the generated client").not.toBeNull();
    const inline = JSON.parse(match![1]) as string;
    expect(parse(inline)).toEqual(datamodel);
  });

  it("every model, column, type, nullability, default, key, index, enum and foreign key matches the migrated database", async () => {
    const url = await migratedDatabase();
    const actual = await actualFacts(url);
    expect(compare(expected, actual)).toEqual({ inSchemaButNotInDatabase: [], inDatabaseButNotInSchema: [] });
    // Spot checks that the facts say what a reader expects.
    expect(actual).toEqual(
      expect.arrayContaining([
        "column User.id: uuid NOT NULL default=none",
        "column User.globalRole: enum GlobalRole NOT NULL default='USER'::\"GlobalRole\"",
        "column Project.description: text NULL default=none",
        "column Project.createdAt: timestamp(3) without time zone NOT NULL default=CURRENT_TIMESTAMP",
        "column Instance.pricePerHour: double precision NULL default=none",
        "column Backend.settings: jsonb NOT NULL default='{}'::jsonb",
        "column ProvisioningStep.attempts: integer NOT NULL default=0",
        "primary key ProjectMember_pkey: ProjectMember(projectId, userId) using btree",
        "unique index Project_name_key: Project(name) using btree",
        "unique index Backend_projectId_name_key: Backend(projectId, name) using btree",
        "index ProvisioningRun_backendId_createdAt_idx: ProvisioningRun(backendId, createdAt) using btree",
        "foreign key Backend_projectId_fkey: Backend(projectId) -> Project(id) on delete RESTRICT on update CASCADE",
        "foreign key ApiToken_userId_fkey: ApiToken(userId) -> User(id) on delete CASCADE on update CASCADE",
        "enum ProjectRole: ADMIN, USER, VIEWER",
      ]),
    );
  });

  it("leaves only Prisma's _prisma_migrations table besides the schema's", async () => {
    const url = await migratedDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    await client.end();
    const modelTables = datamodel.models.map((m) => m.dbName ?? m.name);
    expect(tables.rows.map((row) => row.table_name).sort()).toEqual([...modelTables, "_prisma_migrations"].sort());
  });

  // The checker must not be vacuous: each of these edits to a copy of the migrations is drift it
  // has to report, and report precisely.
  describe("detects drift introduced into a copy of the migrations", () => {
    let migration: string;
    beforeAll(async () => {
      migration = await readFile(path.join(MIGRATIONS_DIR, "20261127000000_init/migration.sql"), "utf8");
    });

    async function withEditedCopy(edit: (sql: string) => string): Promise<ReturnType<typeof compare>> {
      const dir = await mkdtemp(path.join(os.tmpdir(), "bh-drift-"));
      try {
        await cp(MIGRATIONS_DIR, dir, { recursive: true });
        const file = path.join(dir, "20261127000000_init/migration.sql");
        const edited = edit(migration);
        expect(edited, "the edit changed nothing").not.toBe(migration);
        await writeFile(file, edited);
        return compare(expected, await actualFacts(await migratedDatabase(dir)));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }

    it.each([
      {
        what: "a nullable column made NOT NULL",
        edit: (sql: string) => sql.replace(`"description" TEXT,\n`, `"description" TEXT NOT NULL,\n`),
        missing: ["column Project.description: text NULL default=none"],
        extra: ["column Project.description: text NOT NULL default=none"],
      },
      {
        what: "a NOT NULL column made nullable",
        edit: (sql: string) => sql.replace(`"tokenHash" TEXT NOT NULL,`, `"tokenHash" TEXT,`),
        missing: ["column ApiToken.tokenHash: text NOT NULL default=none"],
        extra: ["column ApiToken.tokenHash: text NULL default=none"],
      },
      {
        what: "a changed column type",
        edit: (sql: string) => sql.replace(`"lastUsedAt" TIMESTAMP(3),`, `"lastUsedAt" TIMESTAMPTZ(3),`),
        missing: ["column ApiToken.lastUsedAt: timestamp(3) without time zone NULL default=none"],
        extra: ["column ApiToken.lastUsedAt: timestamp(3) with time zone NULL default=none"],
      },
      {
        what: "a changed default",
        edit: (sql: string) => sql.replace(`"attempts" INTEGER NOT NULL DEFAULT 0,`, `"attempts" INTEGER NOT NULL DEFAULT 1,`),
        missing: ["column ProvisioningStep.attempts: integer NOT NULL default=0"],
        extra: ["column ProvisioningStep.attempts: integer NOT NULL default=1"],
      },
      {
        what: "enum labels in another order",
        edit: (sql: string) => sql.replace(`AS ENUM ('ADMIN', 'USER', 'VIEWER')`, `AS ENUM ('VIEWER', 'USER', 'ADMIN')`),
        missing: ["enum ProjectRole: ADMIN, USER, VIEWER"],
        extra: ["enum ProjectRole: VIEWER, USER, ADMIN"],
      },
      {
        what: "a missing unique index",
        edit: (sql: string) => sql.replace(`CREATE UNIQUE INDEX "Project_name_key" ON "Project"("name");`, ""),
        missing: ["unique index Project_name_key: Project(name) using btree"],
        extra: [],
      },
      {
        what: "a unique index that should be a plain index",
        edit: (sql: string) => sql.replace(`CREATE INDEX "ApiToken_userId_idx"`, `CREATE UNIQUE INDEX "ApiToken_userId_idx"`),
        missing: ["index ApiToken_userId_idx: ApiToken(userId) using btree"],
        extra: ["unique index ApiToken_userId_idx: ApiToken(userId) using btree"],
      },
      {
        what: "another on-delete action",
        edit: (sql: string) => sql.replace(`REFERENCES "Project"("id") ON DELETE RESTRICT`, `REFERENCES "Project"("id") ON DELETE CASCADE`),
        missing: ["foreign key Backend_projectId_fkey: Backend(projectId) -> Project(id) on delete RESTRICT on update CASCADE"],
        extra: ["foreign key Backend_projectId_fkey: Backend(projectId) -> Project(id) on delete CASCADE on update CASCADE"],
      },
      {
        what: "an extra column, table and check constraint",
        edit: (sql: string) =>
          `${sql}\nALTER TABLE "User" ADD COLUMN "nickname" TEXT;\nCREATE TABLE "Stray" ("id" INTEGER NOT NULL);\nALTER TABLE "Project" ADD CONSTRAINT "Project_name_check" CHECK (length("name") >= 3);\n`,
        missing: [],
        extra: [
          "column Stray.id: integer NOT NULL default=none",
          "column User.nickname: text NULL default=none",
          "constraint Project_name_check on Project: CHECK ((length(name) >= 3))",
          "table Stray",
        ],
      },
    ])("$what", async ({ edit, missing, extra }) => {
      expect(await withEditedCopy(edit)).toEqual({ inSchemaButNotInDatabase: missing, inDatabaseButNotInSchema: extra });
    });
  });
});

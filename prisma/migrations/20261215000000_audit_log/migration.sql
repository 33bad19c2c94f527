-- The audit log: see the models AuditEvent, AuditAnchor and AuditPending in prisma/schema.prisma
-- and src/audit/.

-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('OK', 'USER_ERROR', 'DENIED', 'FAILED');

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "actorId" UUID,
    "tokenPrefix" TEXT,
    "clientAddress" TEXT,
    "projectId" UUID,
    "operation" TEXT NOT NULL,
    "targetIds" JSONB NOT NULL DEFAULT '[]',
    "outcome" "AuditOutcome" NOT NULL,
    "codes" JSONB NOT NULL DEFAULT '[]',
    "requestId" TEXT,
    "count" INTEGER NOT NULL DEFAULT 1,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditAnchor" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "deletedEvents" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditAnchor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditPending" (
    "id" UUID NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "actorId" UUID,
    "tokenPrefix" TEXT,
    "clientAddress" TEXT,
    "projectId" UUID,
    "operation" TEXT NOT NULL,
    "targetIds" JSONB NOT NULL DEFAULT '[]',
    "requestId" TEXT,

    CONSTRAINT "AuditPending_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_seq_key" ON "AuditEvent"("seq");

-- CreateIndex
CREATE INDEX "AuditEvent_projectId_seq_idx" ON "AuditEvent"("projectId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "AuditAnchor_seq_key" ON "AuditAnchor"("seq");

-- CreateIndex
CREATE INDEX "AuditPending_startedAt_idx" ON "AuditPending"("startedAt");

-- Append-only. Nothing updates or truncates these tables. AuditEvent rows may be deleted only when
-- an AuditAnchor at or after them has been recorded first (retention pruning does exactly that, in
-- one transaction), so the kept rows always verify from the newest anchor. A superuser or the
-- tables' owner can still disable the trigger: the hash chain is what makes such an edit visible.
CREATE FUNCTION "audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'AuditEvent'
     AND EXISTS (SELECT 1 FROM "AuditAnchor" WHERE "seq" >= OLD."seq") THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % on "%" refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent"
    FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
CREATE TRIGGER "AuditEvent_no_truncate" BEFORE TRUNCATE ON "AuditEvent"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_append_only"();
CREATE TRIGGER "AuditAnchor_append_only" BEFORE UPDATE OR DELETE ON "AuditAnchor"
    FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
CREATE TRIGGER "AuditAnchor_no_truncate" BEFORE TRUNCATE ON "AuditAnchor"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_append_only"();

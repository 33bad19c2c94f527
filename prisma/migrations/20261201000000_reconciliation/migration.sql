-- AlterEnum
ALTER TYPE "BackendStatus" ADD VALUE 'DRIFTED';
ALTER TYPE "BackendStatus" ADD VALUE 'CREDENTIALS_INVALID';

-- CreateEnum
CREATE TYPE "ReconciliationFindingKind" AS ENUM ('ORPHAN_INSTANCE', 'INSTANCE_GONE', 'MAX_DURATION_REACHED', 'RESOURCE_MISSING', 'RESOURCE_CHANGED', 'CREDENTIALS_REJECTED', 'CHECK_DENIED');

-- CreateEnum
CREATE TYPE "ReconciliationAction" AS ENUM ('TERMINATED', 'MARKED_TERMINATED', 'REPORTED', 'REPAIRED');

-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "defaultMaxDurationMinutes" INTEGER,
ADD COLUMN     "maxHourlySpend" DOUBLE PRECISION,
ADD COLUMN     "maxLiveInstances" INTEGER;

-- AlterTable
ALTER TABLE "Backend" ADD COLUMN     "lastReconciledAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Instance" ADD COLUMN     "maxDurationMinutes" INTEGER;

-- CreateTable
CREATE TABLE "ReconciliationFinding" (
    "id" UUID NOT NULL,
    "backendId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" "ReconciliationFindingKind" NOT NULL,
    "action" "ReconciliationAction" NOT NULL,
    "resourceType" TEXT NOT NULL,
    "resourceId" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "ReconciliationFinding_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReconciliationFinding_backendId_at_idx" ON "ReconciliationFinding"("backendId", "at");

-- AddForeignKey
ALTER TABLE "ReconciliationFinding" ADD CONSTRAINT "ReconciliationFinding_backendId_fkey" FOREIGN KEY ("backendId") REFERENCES "Backend"("id") ON DELETE CASCADE ON UPDATE CASCADE;

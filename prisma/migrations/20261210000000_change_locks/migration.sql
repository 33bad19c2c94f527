-- AlterTable
ALTER TABLE "Backend" ADD COLUMN "deleteRequestedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Instance" ADD COLUMN "terminationRequestedAt" TIMESTAMP(3);

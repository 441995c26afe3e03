-- AlterTable
ALTER TABLE "Discrepancy" ADD COLUMN     "chargedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "ReconciliationRun" ADD COLUMN     "inFlightCount" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "ReconciliationCharge" (
    "runId" UUID NOT NULL,
    "chargeId" TEXT NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "refundedCents" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" TEXT NOT NULL,
    "refunded" BOOLEAN NOT NULL,
    "chargedAt" TIMESTAMP(3) NOT NULL,
    "inPeriod" BOOLEAN NOT NULL,

    CONSTRAINT "ReconciliationCharge_pkey" PRIMARY KEY ("runId","chargeId")
);

-- Staging rows live only while a run compares them: no WAL needed (a crash fails the run anyway).
ALTER TABLE "ReconciliationCharge" SET UNLOGGED;

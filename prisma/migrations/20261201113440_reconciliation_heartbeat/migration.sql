-- A reconciliation run's heartbeat and the job executing it: the sweep re-queues a RUNNING run whose
-- heartbeat stopped (its job lost with Redis). Runs already RUNNING start with a fresh heartbeat.
-- AlterTable
ALTER TABLE "ReconciliationRun" ADD COLUMN     "jobId" TEXT,
ADD COLUMN     "progressAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "ReconciliationRun_status_progressAt_idx" ON "ReconciliationRun"("status", "progressAt");

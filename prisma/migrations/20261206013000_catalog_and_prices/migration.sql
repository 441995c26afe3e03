-- CreateEnum
CREATE TYPE "HoldReason" AS ENUM ('BUSINESS_UNKNOWN', 'PRICE_MISMATCH');

-- CreateEnum
CREATE TYPE "HoldResolution" AS ENUM ('ACCEPTED', 'REFUNDED');

-- AlterEnum
ALTER TYPE "BusinessStatus" ADD VALUE 'ARCHIVED';

-- AlterEnum
ALTER TYPE "PlacementStatus" ADD VALUE 'CANCELLED';

-- AlterEnum
ALTER TYPE "WebhookEventStatus" ADD VALUE 'HELD';

-- AlterTable
ALTER TABLE "Business" ADD COLUMN     "archivedAt" TIMESTAMP(3),
ADD COLUMN     "externalId" TEXT;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "heldAt" TIMESTAMP(3),
ADD COLUMN     "heldRegionId" UUID,
ADD COLUMN     "holdDetail" TEXT,
ADD COLUMN     "holdReason" "HoldReason",
ADD COLUMN     "holdResolution" "HoldResolution",
ADD COLUMN     "holdResolvedAt" TIMESTAMP(3),
ADD COLUMN     "holdResolvedById" UUID;

-- AlterTable
ALTER TABLE "Placement" ADD COLUMN     "endReason" TEXT;

-- AlterTable
ALTER TABLE "Region" ADD COLUMN     "externalId" TEXT,
ADD COLUMN     "placementCurrency" VARCHAR(3) NOT NULL DEFAULT 'aud',
ADD COLUMN     "placementPriceCents" INTEGER NOT NULL DEFAULT 2200;

-- AlterTable
ALTER TABLE "StripeWebhookEvent" ADD COLUMN     "heldBusinessRef" TEXT,
ADD COLUMN     "heldReason" "HoldReason";

-- CreateTable
CREATE TABLE "CatalogImportRow" (
    "importId" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "externalId" TEXT NOT NULL,
    "regionExternalId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,

    CONSTRAINT "CatalogImportRow_pkey" PRIMARY KEY ("importId","externalId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Business_externalId_key" ON "Business"("externalId");

-- CreateIndex
CREATE INDEX "Payment_heldAt_idx" ON "Payment"("heldAt");

-- CreateIndex
CREATE UNIQUE INDEX "Region_externalId_key" ON "Region"("externalId");

-- CreateIndex
CREATE INDEX "StripeWebhookEvent_heldBusinessRef_idx" ON "StripeWebhookEvent"("heldBusinessRef");


-- Staging only: rows live for one import, so crash safety is not worth the WAL.
ALTER TABLE "CatalogImportRow" SET UNLOGGED;

-- AlterTable
ALTER TABLE "Backup" ADD COLUMN     "objectBucket" TEXT,
ADD COLUMN     "objectDeletedAt" TIMESTAMP(3),
ADD COLUMN     "objectKey" TEXT,
ADD COLUMN     "sha256" TEXT,
ADD COLUMN     "uploadedAt" TIMESTAMP(3);

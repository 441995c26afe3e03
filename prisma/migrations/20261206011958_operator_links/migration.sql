-- CreateEnum
CREATE TYPE "OperatorLinkPurpose" AS ENUM ('INVITE', 'PASSWORD_RESET', 'FIRST_ADMIN');

-- CreateTable
CREATE TABLE "OperatorLink" (
    "id" UUID NOT NULL,
    "purpose" "OperatorLinkPurpose" NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "operatorId" UUID,
    "createdById" UUID,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OperatorLink_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "OperatorLink_tokenHash_key" ON "OperatorLink"("tokenHash");

-- CreateIndex
CREATE INDEX "OperatorLink_email_purpose_idx" ON "OperatorLink"("email", "purpose");

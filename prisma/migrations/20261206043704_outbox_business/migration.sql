-- AlterTable
ALTER TABLE "OutboxMessage" ADD COLUMN     "businessId" UUID;

-- CreateIndex
CREATE INDEX "OutboxMessage_businessId_createdAt_idx" ON "OutboxMessage"("businessId", "createdAt");

-- AddForeignKey
ALTER TABLE "OutboxMessage" ADD CONSTRAINT "OutboxMessage_businessId_fkey" FOREIGN KEY ("businessId") REFERENCES "Business"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Emails sent before this column: linked to their business by address where one business has it.
UPDATE "OutboxMessage" AS message
   SET "businessId" = owner.id
  FROM (SELECT min(id::text)::uuid AS id, email FROM "Business" GROUP BY email HAVING count(*) = 1) AS owner
 WHERE message."businessId" IS NULL
   AND message.kind LIKE 'email.%'
   AND message.payload->>'to' = owner.email;

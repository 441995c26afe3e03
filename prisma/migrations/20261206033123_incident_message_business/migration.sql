-- AddForeignKey
ALTER TABLE "IncidentCommunication" ADD CONSTRAINT "IncidentCommunication_businessId_fkey" FOREIGN KEY ("businessId") REFERENCES "Business"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

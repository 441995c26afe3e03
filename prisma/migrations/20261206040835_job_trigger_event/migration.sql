-- AlterEnum
ALTER TYPE "JobTrigger" ADD VALUE 'EVENT';

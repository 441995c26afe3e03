-- Job health alerts were raised as "job-missed-run" and "job-failed-all-attempts" while the rules
-- page listed "jobs.missed_run" and "jobs.failed_all_attempts". The keys now come from one registry
-- (core/src/alertRuleKeys.ts) with the rules page's spelling; existing rows take it too, so open
-- alerts keep clearing and the job health check keeps counting them. Fingerprints are unchanged.
UPDATE "Alert" SET "ruleKey" = 'jobs.missed_run' WHERE "ruleKey" = 'job-missed-run';
UPDATE "Alert" SET "ruleKey" = 'jobs.failed_all_attempts' WHERE "ruleKey" = 'job-failed-all-attempts';

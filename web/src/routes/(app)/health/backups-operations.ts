// The Health page's backups: the newest pg_dump archives with their size, duration, place and checks.
import { graphql, type ResultOf } from "$lib/graphql.ts";

export const BackupsQuery = graphql(`
  query Backups($limit: Int) {
    backups(limit: $limit) {
      id
      fileName
      status
      sizeBytes
      durationMs
      error
      startedAt
      verifiedAt
      restoredAt
      restoreOk
      restoreDetail
      objectUrl
      uploadedAt
      objectDeletedAt
    }
  }
`);

export type BackupRow = ResultOf<typeof BackupsQuery>["backups"][number];

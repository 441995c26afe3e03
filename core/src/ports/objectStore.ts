// The object-store port: where the backup job keeps a copy of each archive off the machine (an
// S3-compatible store when BACKUP_S3_* is configured). Files go up and come down as streams, so
// an archive of any size never sits in memory. The implementation is core/src/adapters/s3.ts.

export interface StoredObject {
  bucket: string;
  key: string;
  sizeBytes: number;
}

/** A failed call rejects with an Error whose message names the store, the bucket and the cause. */
export interface ObjectStore {
  readonly bucket: string;
  /** The object key for an archive's file name (with the configured prefix). */
  keyFor(fileName: string): string;
  /** Streams the local file at `path` up as `key`; resolves once the store holds all of it. */
  upload(key: string, path: string): Promise<StoredObject>;
  /** Streams `key` down into a new local file at `path`. */
  download(key: string, path: string): Promise<void>;
  /** Deletes `key` (an object already gone is not an error). */
  delete(key: string): Promise<void>;
  /** Where an object is, for people: "s3://bucket/key". */
  describe(key: string): string;
  close(): void;
}

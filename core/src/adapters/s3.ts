// The object-store port over the official AWS SDK v3, for any S3-compatible store (AWS S3, MinIO,
// Ceph, R2, …): path-style addressing against BACKUP_S3_ENDPOINT, multipart streaming uploads
// through @aws-sdk/lib-storage's Upload, downloads streamed to disk. Errors are rethrown with the
// store, bucket and the service's own code in the message (InvalidAccessKeyId, NoSuchBucket, …).
import { createWriteStream, createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { ObjectStore, StoredObject } from "../ports/objectStore.ts";

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Prepended to every key ("steward/" → "steward/<file>"); empty: the bucket's root. */
  prefix: string;
  /** Multipart part size (S3's minimum is 5 MiB); default 16 MiB. */
  partSizeBytes?: number;
}

/** Multipart: 16 MiB parts by default, at most 4 in flight (64 MiB of buffers, whatever the archive's size). */
const PART_SIZE = 16 * 2 ** 20;
const QUEUE_SIZE = 4;

function describeError(action: string, where: string, error: unknown): Error {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    // A HEAD-style answer has no body: name the status when the SDK could not read a code.
    const code = error.name === "UnknownError" || error.name === "NotFound" ? `HTTP ${status}` : error.name;
    return new Error(`S3 ${action} ${where} failed: ${code}: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`S3 ${action} ${where} failed: ${message}`, { cause: error });
}

export function s3ObjectStore(settings: S3Settings): ObjectStore {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // Checksums only where the API requires them: many S3-compatible stores do not take the
    // trailing CRC32 the SDK otherwise sends with every upload.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 3,
  });
  const { bucket } = settings;
  const describe = (key: string) => `s3://${bucket}/${key}`;
  return {
    bucket,
    keyFor: (fileName) => `${settings.prefix}${fileName}`,
    describe,
    async upload(key, path): Promise<StoredObject> {
      const sizeBytes = statSync(path).size;
      try {
        const upload = new Upload({
          client,
          params: { Bucket: bucket, Key: key, Body: createReadStream(path), ContentType: "application/octet-stream" },
          partSize: settings.partSizeBytes ?? PART_SIZE,
          queueSize: QUEUE_SIZE,
          leavePartsOnError: false,
        });
        await upload.done();
      } catch (error) {
        throw describeError("upload to", describe(key), error);
      }
      return { bucket, key, sizeBytes };
    },
    async download(key, path) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!(Body instanceof Readable)) throw new Error("the response has no body");
        await pipeline(Body, createWriteStream(path, { flags: "wx" }));
      } catch (error) {
        throw describeError("download of", describe(key), error);
      }
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        throw describeError("delete of", describe(key), error);
      }
    },
    close: () => client.destroy(),
  };
}

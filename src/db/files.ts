/** Files already on Telegram, found again by content (sha256) or by the link they came from. */
import type { Db } from "./database.js";
import type { FileRecord, NewFileRecord } from "./schema.js";

/** Stores an uploaded file; when the same content was stored before for this account, refreshes its reference. */
export async function recordFile(db: Db, file: NewFileRecord): Promise<FileRecord> {
  return db
    .insertInto("files")
    .values(file)
    .onConflict((oc) =>
      oc.columns(["sha256", "size", "account"]).doUpdateSet({
        document_id: file.document_id,
        access_hash: file.access_hash,
        file_reference: file.file_reference,
        dc_id: file.dc_id,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findFileByContent(
  db: Db,
  sha256: string,
  size: number,
  account: FileRecord["account"],
): Promise<FileRecord | undefined> {
  return db
    .selectFrom("files")
    .selectAll()
    .where("sha256", "=", sha256)
    .where("size", "=", size)
    .where("account", "=", account)
    .executeTakeFirst();
}

/** The newest upload of a link, for answering a repeated link without downloading again. */
export async function findFileBySource(
  db: Db,
  sourceUrl: string,
  account: FileRecord["account"],
): Promise<FileRecord | undefined> {
  return db
    .selectFrom("files")
    .selectAll()
    .where("source_url", "=", sourceUrl)
    .where("account", "=", account)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

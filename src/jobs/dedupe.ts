/**
 * A link delivered before with the same options (quality, as document, …) is sent again by reference: the job's
 * parts become that delivery's stored documents, so the deliver step finds each by its content and posts it with
 * no download and no upload. Each document is first asked for again (messages.uploadMedia by reference, nothing
 * posted), which also renews its file reference; one Telegram no longer accepts (FILE_REFERENCE_EXPIRED,
 * MEDIA_INVALID) means the link is fetched and uploaded as if new. The `fresh` option always fetches.
 */
import type { Db } from "../db/database.js";
import { findDeliveredLinks } from "../db/delivered-links.js";
import { recordFile } from "../db/files.js";
import type { FileRecord, Job, JobUpdate } from "../db/schema.js";
import { isLocalSource } from "../fetch/local-file.js";
import type { Logger } from "../logger.js";
import type { TelegramGateway } from "../telegram/gateway.js";
import type { StoredDocument } from "../telegram/send.js";
import { STALE_REFERENCE, storedOf } from "./deliver.js";
import type { JobOptions } from "./job-options.js";
import type { PreparedPart } from "./prepare.js";

export interface ReuseDeps {
  db: Db;
  gateway: Pick<TelegramGateway, "account" | "refreshDocument">;
}

/**
 * The deliver step's checkpoint for parts that are already on Telegram: the fields of a PreparedPart it reads.
 * `path` is empty: there is no file on disk, and none is needed to send by reference.
 */
interface ReusedPart extends Omit<PreparedPart, "streaming" | "thumbnail" | "account"> {
  streaming: boolean;
}

/**
 * What the fetch step returns for a link delivered before with the same options (a checkpoint whose parts are the
 * stored documents), or undefined to fetch as usual: a new link, other options, `fresh`, a local file, or a
 * document Telegram no longer accepts.
 */
export async function reuseDelivered(
  deps: ReuseDeps,
  job: Job,
  ctx: { signal: AbortSignal; log: Logger },
): Promise<JobUpdate | undefined> {
  const options = parseOptions(job.options);
  if (options.fresh || isLocalSource(job.source_url)) return undefined;
  const wanted = optionsKey(options);
  const earlier = (await findDeliveredLinks(deps.db, job.source_url, deps.gateway.account, job.id)).find(
    (link) => optionsKey(parseOptions(link.job.options)) === wanted,
  );
  if (!earlier) return undefined;
  const files: FileRecord[] = [];
  for (const file of earlier.files) {
    ctx.signal.throwIfAborted();
    let refreshed: StoredDocument;
    try {
      refreshed = await deps.gateway.refreshDocument(job.destination_chat_id, storedOf(file), {
        signal: ctx.signal,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (!STALE_REFERENCE.test(code)) throw error;
      ctx.log.info({ code, file: file.id }, "the earlier upload is no longer accepted; fetching again");
      return undefined;
    }
    const { id: _id, created_at: _created, ...row } = file;
    files.push(
      await recordFile(deps.db, {
        ...row,
        document_id: refreshed.id,
        access_hash: refreshed.accessHash,
        file_reference: refreshed.fileReference,
        dc_id: refreshed.dcId,
      }),
    );
  }
  const parts: ReusedPart[] = files.map((f) => ({
    path: "",
    name: f.name,
    size: f.size,
    sha256: f.sha256,
    kind: f.kind === "photo" ? "document" : f.kind,
    mimeType: f.mime_type ?? "application/octet-stream",
    ...(f.duration !== null ? { duration: f.duration } : {}),
    ...(f.width !== null ? { width: f.width } : {}),
    ...(f.height !== null ? { height: f.height } : {}),
    streaming: false,
  }));
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  ctx.log.info(
    { from: earlier.job.id, parts: parts.length },
    "link delivered before; sending it by reference",
  );
  return {
    name: job.name ?? earlier.job.name,
    source_kind: earlier.job.source_kind,
    bytes_total: bytes,
    bytes_done: bytes,
    download_ms: 0,
    checkpoint: JSON.stringify({
      parts,
      files: Object.fromEntries(files.map((f, index) => [String(index + 1), f.id])),
    }),
  };
}

function parseOptions(text: string): JobOptions {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as JobOptions) : {};
  } catch {
    return {}; // a row written by hand: defaults
  }
}

/** Options that change what is delivered, in one canonical text: `fresh` and unset or false flags left out. */
function optionsKey(options: JobOptions): string {
  const entries = Object.entries(options)
    .filter(([key, value]) => key !== "fresh" && value !== undefined && value !== null && value !== false)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

/**
 * A file already on this machine as a job's source (`medusa upload ./film.mkv`): hard-linked into the job's folder,
 * so a 4 GB file costs no copy and no disk space, and the pipeline works on its own name for it as on a download.
 * The link is safe because nothing in the pipeline writes into a file in place: faststart and the thumbnail write a
 * new file and rename it over (a rename replaces the folder entry, never the original's bytes), and splitting writes
 * new parts. Where a link cannot be made (another file system, a file system without links, a file owned by someone
 * else under protected_hardlinks) the file is copied, with progress and cancellable.
 *
 * Only for the terminal: the job steps refuse a local source unless the job was made there.
 */
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { UserError } from "../errors.js";
import { chooseFileName } from "./filename.js";
import { ensureDiskSpace } from "./http/disk-space.js";
import { tooLarge } from "./http/errors.js";
import { ProgressMeter } from "./progress-meter.js";
import type { ProgressCallback } from "./types.js";

/** link(2) failures that mean "copy instead", not "something is wrong". */
const LINK_UNSUPPORTED = new Set(["EXDEV", "EPERM", "EACCES", "ENOTSUP", "EOPNOTSUPP", "EMLINK", "ENOSYS"]);

export interface LocalFileOptions {
  /** The job's folder; it must exist. */
  dir: string;
  /** A name the user gave; wins over the file's own. */
  name?: string | undefined;
  /** Largest file accepted. */
  maxSize: number;
  /** Bytes to keep free when the file has to be copied. */
  minFreeDisk: number;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
}

export interface LocalFile {
  path: string;
  name: string;
  size: number;
  /** How it got into the job's folder. */
  via: "link" | "copy";
}

/** Is this job source a local file (a file: URL) rather than a link? */
export function isLocalSource(source: string): boolean {
  return source.startsWith("file:");
}

/** Puts the file `source` (a file: URL) into `options.dir` under its display name. */
export async function takeLocalFile(source: string, options: LocalFileOptions): Promise<LocalFile> {
  const original = fileURLToPath(source);
  let info: Awaited<ReturnType<typeof fs.stat>>;
  try {
    info = await fs.stat(original);
  } catch (error) {
    // A UserError: another attempt finds no file either.
    throw new UserError(
      "LOCAL_FILE_MISSING",
      `Cannot read ${original}: ${(error as NodeJS.ErrnoException).code}`,
      {
        cause: error,
        userMessage: `The file ${original} is not there any more.`,
        params: { file: original },
      },
    );
  }
  if (!info.isFile()) {
    throw new UserError("LOCAL_FILE_MISSING", `${original} is not a regular file`, {
      userMessage: `${original} is not a file.`,
      key: "err.LOCAL_FILE_NOT_FILE",
      params: { file: original },
    });
  }
  if (info.size > options.maxSize) throw tooLarge(options.maxSize, info.size);
  const name = chooseFileName({ given: options.name, url: source });
  const target = path.join(options.dir, name);
  const meter = new ProgressMeter(options.onProgress, info.size);
  try {
    await fs.link(original, target);
    meter.set(info.size);
    meter.finish();
    return { path: target, name, size: info.size, via: "link" };
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
  await ensureDiskSpace(options.dir, info.size, options.minFreeDisk);
  const partPath = `${target}.part`;
  try {
    await pipeline(
      createReadStream(original),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          meter.add(chunk.length);
          done(null, chunk);
        },
      }),
      createWriteStream(partPath, { flags: "wx" }),
      { signal: options.signal },
    );
    await fs.rename(partPath, target);
  } catch (error) {
    await fs.rm(partPath, { force: true });
    throw error;
  }
  meter.finish();
  return { path: target, name, size: info.size, via: "copy" };
}

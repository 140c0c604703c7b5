/** Shapes shared by the HTTP and yt-dlp engines, so the job pipeline treats both alike. */

/** Reported at most a few times a second while bytes arrive. */
export interface TransferProgress {
  /** Bytes on disk so far. */
  bytes: number;
  /** Expected total, when the source says. */
  total: number | undefined;
  /** Recent speed in bytes per second. */
  speed: number;
}

export type ProgressCallback = (progress: TransferProgress) => void;

/** A finished download: one file in the job's work directory. */
export interface FetchedFile {
  path: string;
  /** Sanitised display name with extension, e.g. "Lecture 1.mp4". */
  name: string;
  size: number;
  mimeType: string | undefined;
  /** Where it came from: "http" (got) or "ytdlp". */
  engine: "http" | "ytdlp";
  /** Title reported by the site (yt-dlp), when any. */
  title: string | undefined;
  /** SHA-256 (hex) when the engine computed it while the bytes arrived. */
  sha256?: string;
}

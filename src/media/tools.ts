/** What the media functions need to run ffmpeg and ffprobe: `config.media` has this shape. */
export interface MediaTools {
  ffmpegPath: string;
  ffprobePath: string;
  /** The limit for each single ffmpeg/ffprobe run. */
  toolTimeoutMs: number;
}

/** Turns a stream of byte counts into throttled `TransferProgress` reports with a recent speed. */
import type { ProgressCallback } from "./types.js";

/** Reports per second at most: enough for a progress bar, cheap for the caller. */
const REPORT_INTERVAL_MS = 250;
/** Speed is measured over roughly this window, so it follows changes without jumping on every chunk. */
const SPEED_WINDOW_MS = 3000;

export class ProgressMeter {
  private bytes = 0;
  private lastReport = 0;
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(
    private readonly onProgress: ProgressCallback | undefined,
    private total: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.samples.push({ at: this.now(), bytes: 0 });
  }

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Sets the absolute count (after a restart from zero it can go down). */
  set(bytes: number): void {
    this.bytes = bytes;
    this.maybeReport();
  }

  add(delta: number): void {
    this.bytes += delta;
    this.maybeReport();
  }

  get value(): number {
    return this.bytes;
  }

  /** The last report, sent even when the throttle would skip it. */
  finish(): void {
    this.report(this.now());
  }

  private maybeReport(): void {
    if (!this.onProgress) return;
    const now = this.now();
    if (now - this.lastReport >= REPORT_INTERVAL_MS) this.report(now);
  }

  private report(now: number): void {
    this.lastReport = now;
    this.samples.push({ at: now, bytes: this.bytes });
    while (this.samples.length > 2 && now - (this.samples[1]?.at ?? now) >= SPEED_WINDOW_MS)
      this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (now - first.at) / 1000;
    const speed = elapsed > 0 ? Math.max(0, (this.bytes - first.bytes) / elapsed) : 0;
    this.onProgress?.({ bytes: this.bytes, total: this.total, speed });
  }
}

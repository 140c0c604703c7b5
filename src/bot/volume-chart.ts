/**
 * A bar chart of bytes delivered per day for /stats, drawn pixel by pixel and encoded as PNG: one bar a day, the
 * tallest day full height, a day with jobs but no bytes a thin mark, gridlines at quarters. No text (no font
 * here): the caption names the days and the scale.
 */
import { encodePng } from "../lib/png.js";

export const CHART_WIDTH = 560;
export const CHART_HEIGHT = 200;
const MARGIN = 10;
const BACKGROUND = [255, 255, 255] as const;
const GRID = [225, 228, 232] as const;
const AXIS = [120, 120, 120] as const;
const BAR = [52, 120, 198] as const;

export function volumeChart(values: readonly number[]): Buffer {
  const w = CHART_WIDTH;
  const h = CHART_HEIGHT;
  const rgb = Buffer.alloc(w * h * 3);
  const fill = (x0: number, y0: number, x1: number, y1: number, colour: readonly number[]) => {
    for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) rgb.set(colour, (y * w + x) * 3);
    }
  };
  fill(0, 0, w, h, BACKGROUND);
  const plotTop = MARGIN;
  const plotBottom = h - MARGIN;
  const plotHeight = plotBottom - plotTop;
  for (let q = 0; q < 4; q++) {
    const y = plotTop + Math.round((plotHeight * q) / 4);
    fill(MARGIN, y, w - MARGIN, y + 1, GRID);
  }
  const max = Math.max(0, ...values);
  const slot = (w - 2 * MARGIN) / Math.max(1, values.length);
  const barWidth = Math.max(1, Math.floor(slot * 0.7));
  values.forEach((value, i) => {
    const x = MARGIN + Math.round(i * slot + (slot - barWidth) / 2);
    const height = max > 0 ? Math.max(value > 0 ? 2 : 0, Math.round((value / max) * plotHeight)) : 0;
    fill(x, plotBottom - height, x + barWidth, plotBottom, BAR);
  });
  fill(MARGIN, plotBottom, w - MARGIN, plotBottom + 1, AXIS);
  return encodePng(w, h, rgb);
}

/**
 * Bytes delivered per UTC day as an inline SVG bar chart, drawn on the server: one bar a day (a day without
 * deliveries shows none), the tallest day full height, gridlines at quarters with their values, a date under every
 * few bars, and a <title> per bar that names the day, its jobs and its bytes. Only numbers and dates go in, all
 * escaped anyway.
 */
import { formatBytes } from "../lib/size.js";
import { escapeHtml } from "./html.js";

const WIDTH = 760;
const HEIGHT = 240;
const LEFT = 70; // room for the value labels
const RIGHT = 10;
const TOP = 12;
const BOTTOM = 30; // room for the dates
/** A date label under every this many bars, so they never overlap. */
const LABEL_EVERY = 5;

export interface VolumeDay {
  day: string;
  jobs: number;
  bytes: number;
}

export function volumeSvg(days: readonly VolumeDay[]): string {
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const max = Math.max(0, ...days.map((d) => d.bytes));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(1, Math.floor(slot * 0.7));
  const parts: string[] = [];
  for (let q = 0; q <= 4; q++) {
    const y = TOP + Math.round((plotH * q) / 4);
    const value = max > 0 ? formatBytes(Math.round((max * (4 - q)) / 4)) : q === 4 ? "0" : "";
    parts.push(`<line class="grid" x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}"/>`);
    if (value)
      parts.push(
        `<text class="axis" x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${escapeHtml(value)}</text>`,
      );
  }
  days.forEach((d, i) => {
    const x = LEFT + Math.round(i * slot + (slot - barW) / 2);
    const h = max > 0 && d.bytes > 0 ? Math.max(2, Math.round((d.bytes / max) * plotH)) : 0;
    const title = `${d.day}: ${d.jobs} job${d.jobs === 1 ? "" : "s"}, ${formatBytes(d.bytes)} delivered`;
    parts.push(
      `<rect class="bar" data-day="${escapeHtml(d.day)}" x="${x}" y="${TOP + plotH - h}" width="${barW}" height="${h}"><title>${escapeHtml(title)}</title></rect>`,
    );
    if (i % LABEL_EVERY === 0 || i === days.length - 1) {
      parts.push(
        `<text class="axis" x="${x + barW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeHtml(d.day.slice(5))}</text>`,
      );
    }
  });
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Bytes delivered per day">${parts.join("")}</svg>`;
}

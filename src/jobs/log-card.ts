/**
 * The caption on the copy of a delivered file in a log channel: who asked, when, from where, and what it is, with
 * hashtags so the channel can be searched (#u123 for a user, #youtube_com for a site, #video for a type):
 *
 *   <b>Lecture 1.mp4</b>
 *   User: <code>123</code> <a href="tg://user?id=123">Alice</a>
 *   Time: 2026-11-25 14:03:05 UTC
 *   Source: example.com
 *   Link: <a href="https://example.com/v?id=1">https://example.com/v?id=1</a>
 *   Type: video · 1.5 GiB · 720p · 1:02:03
 *   #u123 #example_com #video
 *
 * What users control (their name, the file name, the link) cannot break or fake the card: it is escaped, put on
 * one line with whitespace runs collapsed, stripped of bidi controls, and its own "#tag" and "@name" are broken
 * with an invisible WORD JOINER so they neither become hashtags nor mentions. Each user-controlled text comes after
 * the fixed facts of its line (the id before the name), so nothing it says can stand in for them.
 */
import type { Quality } from "../lib/quality.js";
import { formatBytes } from "../lib/size.js";
import { displayUrl } from "../logger.js";
import { formatDuration, qualityLabel, sourceHost } from "./caption.js";
import { CAPTION_LIMIT, escapeHtml, fitToLimit, plainText, truncateText } from "./telegram-html.js";

export type DeliveredType = "video" | "audio" | "document" | "photo";

export interface LogCardInfo {
  user: {
    id: number | bigint;
    /** First and last name as Telegram gives them; anything at all. */
    name: string | null;
  };
  /** When the file was delivered; shown in UTC. */
  at: Date;
  /** The link it came from; credentials are removed here. null for a file that was sent in. */
  url: string | null;
  type: DeliveredType;
  /** The delivered file's name. */
  fileName?: string | null;
  /** Bytes. */
  size?: number | null;
  quality?: Quality | number | null;
  /** Seconds. */
  duration?: number | null;
  /** Which part of a split file this copy is. */
  part?: { index: number; count: number } | null;
}

export interface LogCardOptions {
  /** Visible UTF-16 units allowed. @default CAPTION_LIMIT (1024) */
  limit?: number;
}

/** Telegram's first and last names are 64 characters each: anything longer is not a name Telegram gave us. */
const USER_NAME_MAX = 129;
/** Longer links work in no browser; a longer href risks Telegram refusing the whole caption. */
const HREF_MAX = 2048;
/** Invisible, and not a letter: "#\u2060u1" shows as "#u1" but is no hashtag. */
const WORD_JOINER = "\u2060";
const SEPARATOR = " · ";

export function renderLogCard(info: LogCardInfo, options: LogCardOptions = {}): string {
  const limit = options.limit ?? CAPTION_LIMIT;
  const id = String(info.user.id);
  if (!/^[1-9][0-9]*$/.test(id)) throw new TypeError(`Expected a positive integer user id, got ${id}`);
  if (Number.isNaN(info.at.getTime()))
    throw new TypeError("Expected a valid date for `at`, got an invalid Date");

  const link = info.url === null ? undefined : displayUrl(info.url);
  const host = info.url === null ? "" : sourceHost(info.url);
  const href = link === undefined ? undefined : safeHref(link);
  const part = info.part && info.part.count > 1 ? `part ${info.part.index}/${info.part.count}` : "";
  const details = [
    info.type,
    typeof info.size === "number" && info.size >= 0 ? formatBytes(info.size) : "",
    qualityLabel(info.quality),
    typeof info.duration === "number" ? formatDuration(info.duration) : "",
    part,
  ].filter(Boolean);
  const tags = [`#u${id}`, host ? `#${host.replace(/[^A-Za-z0-9_]/g, "_")}` : "", `#${info.type}`].filter(
    Boolean,
  );

  const values = {
    link: link === undefined ? "" : userText(link),
    file: info.fileName ? userText(info.fileName) : "",
    name: truncateText(userText(info.user.name ?? ""), USER_NAME_MAX) || "(no name)",
  };
  return fitToLimit(values, ["link", "file", "name"], limit, (v) => {
    const lines = [
      v.file && `<b>${escapeHtml(v.file)}</b>`,
      `User: <code>${id}</code> <a href="tg://user?id=${id}">${escapeHtml(v.name)}</a>`,
      `Time: ${info.at.toISOString().slice(0, 19).replace("T", " ")} UTC`,
      host && `Source: ${escapeHtml(host)}`,
      v.link &&
        (href
          ? `Link: <a href="${escapeHtml(href)}">${escapeHtml(v.link)}</a>`
          : `Link: ${escapeHtml(v.link)}`),
      `Type: ${details.map(escapeHtml).join(SEPARATOR)}`,
      tags.join(" "),
    ];
    return lines.filter(Boolean).join("\n");
  });
}

/** Someone else's text on one line of the card: see the module comment. */
function userText(text: string): string {
  return plainText(text)
    .replace(/\s+/g, " ")
    .replace(/([#@])(?=[\p{L}\p{N}_])/gu, `$1${WORD_JOINER}`);
}

/** The link to open, when it is one a reader can safely follow; otherwise the card shows it as text only. */
function safeHref(link: string): string | undefined {
  try {
    const url = new URL(link);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.href.length <= HREF_MAX ? url.href : undefined;
  } catch {
    return undefined;
  }
}

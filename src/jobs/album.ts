/**
 * How the parts of a split file go out: in order, as albums where Telegram allows one. An album holds at most 10
 * items, and all of one kind (photos and videos together, documents together, audio together), so a run of parts
 * of one kind is cut into albums of 10 and a change of kind starts a new album.
 */
import { MAX_ALBUM_ITEMS } from "../telegram/send.js";

export type PartKind = "video" | "audio" | "document";

/** What Telegram lets share an album. */
function albumKind(kind: PartKind): string {
  return kind === "video" ? "visual" : kind;
}

/** Part numbers (1-based, in order) grouped into albums; a group of one is sent as a lone message. */
export function albumGroups(kinds: readonly PartKind[], maxItems = MAX_ALBUM_ITEMS): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let currentKind: string | undefined;
  for (const [index, kind] of kinds.entries()) {
    const k = albumKind(kind);
    if (current.length === maxItems || (current.length > 0 && k !== currentKind)) {
      groups.push(current);
      current = [];
    }
    currentKind = k;
    current.push(index + 1);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

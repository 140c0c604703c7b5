/** Chat references as operators write them, and Bot API style ids in gramjs's terms. */
import type { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import type { ChatInfo } from "./gateway.js";
import { peersOf } from "./incoming.js";

export function chatInfo(id: number, resolved: { users: Api.TypeUser[]; chats: Api.TypeChat[] }): ChatInfo {
  const row = peersOf(resolved).find((p) => p.id === id);
  return {
    id,
    kind: row?.kind ?? "user",
    title: row?.title ?? String(id),
    username: row?.username ?? undefined,
  };
}

/** "@name", "name", "https://t.me/name", "t.me/name" → "name"; undefined for ids. */
export function usernameOf(ref: string | number): string | undefined {
  if (typeof ref === "number") return undefined;
  const text = ref.trim();
  if (/^-?\d+$/.test(text)) return undefined;
  const match =
    /^(?:https?:\/\/)?(?:t\.me|telegram\.me)\/([A-Za-z0-9_]{4,32})\/?$/i.exec(text) ??
    /^@?([A-Za-z][A-Za-z0-9_]{3,31})$/.exec(text);
  return match?.[1];
}

export function channelIdOf(markedChatId: number): string {
  // gramjs marks a channel as "-100" followed by its id (utils.getPeerId); the peers row says it is a channel.
  return String(-markedChatId).slice(3);
}

export function bigId(value: number | string): Api.long {
  return returnBigInt(value);
}

/**
 * A t.me link to a message, for channels and supergroups (by username, else the private /c/ form members can
 * open); undefined for private chats and basic groups, whose messages have no link.
 */
export function messageLink(
  chat: Pick<ChatInfo, "id" | "kind" | "username">,
  messageId: number,
): string | undefined {
  if (chat.kind !== "channel") return undefined;
  return chat.username
    ? `https://t.me/${chat.username}/${messageId}`
    : `https://t.me/c/${channelIdOf(chat.id)}/${messageId}`;
}

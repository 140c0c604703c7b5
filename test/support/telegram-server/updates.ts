/**
 * Turns logged updates (update-log.ts) into what Telegram sends: each `Update` with the pts its box gave it, in
 * `Updates` containers carrying the account's seq and date (seq 0 for channel updates, which have their own pts),
 * pushed to every session of each account concerned except the one that caused it (that session has the update
 * in its answer). getDifference answers are rendered here too.
 */
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import type { ServerCore } from "./server-core.js";
import type { BoxEntry } from "./update-log.js";
import { type ChatRecord, type ChatRef, now, type WorldEvent } from "./world.js";

/** The Update one log entry is for `viewer`; `channel` for entries of a channel's box. */
export function renderEntry(
  core: ServerCore,
  entry: BoxEntry,
  viewer: number,
  channel?: ChatRecord,
): Api.TypeUpdate {
  const world = core.world;
  const { pts, ptsCount } = entry;
  const e = entry.event;
  switch (e.kind) {
    case "newMessage":
    case "editMessage": {
      const message = world.renderMessage(e.message, viewer);
      if (channel) {
        return e.kind === "newMessage"
          ? new Api.UpdateNewChannelMessage({ message, pts, ptsCount })
          : new Api.UpdateEditChannelMessage({ message, pts, ptsCount });
      }
      return e.kind === "newMessage"
        ? new Api.UpdateNewMessage({ message, pts, ptsCount })
        : new Api.UpdateEditMessage({ message, pts, ptsCount });
    }
    case "deleteMessages":
      return channel
        ? new Api.UpdateDeleteChannelMessages({
            channelId: returnBigInt(channel.id),
            messages: e.ids,
            pts,
            ptsCount,
          })
        : new Api.UpdateDeleteMessages({ messages: e.ids, pts, ptsCount });
    case "botCallbackQuery": {
      const m = e.message;
      return new Api.UpdateBotCallbackQuery({
        queryId: returnBigInt(e.queryId),
        userId: returnBigInt(e.userId),
        peer: world.peerFor(m.chat, viewer),
        msgId: m.id,
        chatInstance: returnBigInt(chatInstance(m.chat)),
        data: e.data,
      });
    }
  }
}

/** Users and chats the entries mention, as `viewer` sees them, so its client can cache their access hashes. */
export function entitiesOf(
  core: ServerCore,
  entries: BoxEntry[],
  viewer: number,
): { users: Api.TypeUser[]; chats: Api.TypeChat[] } {
  const world = core.world;
  const users = new Map<number, Api.TypeUser>();
  const chats = new Map<number, Api.TypeChat>();
  const addUser = (id: number) => {
    const u = world.users.get(id);
    if (u && !users.has(id)) users.set(id, world.renderUser(u, viewer));
  };
  for (const { event: e } of entries) {
    if (e.kind === "deleteMessages") continue;
    const m = e.message;
    addUser(m.fromId);
    addUser(viewer);
    if (m.chat.kind === "private") {
      addUser(m.chat.a);
      addUser(m.chat.b);
    } else {
      const c = world.chats.get(m.chat.id);
      if (c) chats.set(c.id, world.renderChat(c, viewer));
    }
    if (e.kind === "botCallbackQuery") addUser(e.userId);
  }
  return { users: [...users.values()], chats: [...chats.values()] };
}

/**
 * One container for entries of one box: `Updates` with the entry's seq and date, `UpdatesCombined` (seq_start..
 * seq) for several, seq 0 and the current date for a channel's. `before` go first (UpdateMessageID).
 */
export function containerFor(
  core: ServerCore,
  viewer: number,
  entries: BoxEntry[],
  channel?: ChatRecord,
  before: Api.TypeUpdate[] = [],
): Api.Updates | Api.UpdatesCombined {
  const updates = [...before, ...entries.map((e) => renderEntry(core, e, viewer, channel))];
  const { users, chats } = entitiesOf(core, entries, viewer);
  if (channel && !chats.some((c) => Number((c as Api.Channel).id) === channel.id)) {
    chats.push(core.world.renderChat(channel, viewer));
  }
  const first = entries[0];
  const last = entries.at(-1);
  if (channel || !first || !last) return new Api.Updates({ updates, users, chats, date: now(), seq: 0 });
  if (first === last) return new Api.Updates({ updates, users, chats, date: last.date, seq: last.seq });
  return new Api.UpdatesCombined({
    updates,
    users,
    chats,
    date: last.date,
    seqStart: first.seq,
    seq: last.seq,
  });
}

/** Pushes a world event to every session it concerns, except the session that caused it. */
export function deliverEvent(core: ServerCore, event: WorldEvent): void {
  const except = event.origin?.authKeyId;
  for (const [uid, entry] of event.entries) core.pushUpdates(uid, containerFor(core, uid, [entry]), except);
  const entry = event.channelEntry;
  if (!entry) return;
  const ref: ChatRef = event.type === "delete" ? event.chat : event.message.chat;
  const channel = ref.kind === "channel" ? core.world.chats.get(ref.id) : undefined;
  if (!channel) return;
  for (const uid of core.world.audience(ref)) {
    core.pushUpdates(uid, containerFor(core, uid, [entry], channel), except);
  }
}

/** The same value for every button press in one chat, as Telegram's chat_instance is. */
function chatInstance(chat: ChatRef): number {
  return chat.kind === "private" ? Math.min(chat.a, chat.b) * 7919 + Math.max(chat.a, chat.b) : chat.id;
}

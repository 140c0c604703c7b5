/**
 * Turns world events into the updates Telegram would push: a new message, an edit, a deletion or a button press
 * reaches every other participant's connections as a real `Updates` object.
 */
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { renderUpdate } from "./methods.js";
import type { ServerCore } from "./server-core.js";
import { now, type WorldEvent } from "./world.js";

export function deliverEvent(core: ServerCore, event: WorldEvent): void {
  const world = core.world;
  switch (event.type) {
    case "message":
    case "edit": {
      const m = event.message;
      for (const uid of world.audience(m.chat)) {
        if (uid === m.fromId) continue;
        const e = world.entitiesFor(m, uid);
        core.pushUpdates(
          uid,
          new Api.Updates({
            updates: [renderUpdate(core, m, uid, event.type === "edit")],
            users: e.users,
            chats: e.chats,
            date: now(),
            seq: 0,
          }),
        );
      }
      return;
    }
    case "delete": {
      for (const uid of world.audience(event.chat)) {
        const update =
          event.chat.kind === "channel"
            ? new Api.UpdateDeleteChannelMessages({
                channelId: returnBigInt(event.chat.id),
                messages: event.ids,
                pts: world.chats.get(event.chat.id)?.pts ?? 1,
                ptsCount: event.ids.length,
              })
            : new Api.UpdateDeleteMessages({
                messages: event.ids,
                pts: world.users.get(uid)?.pts ?? 1,
                ptsCount: event.ids.length,
              });
        core.pushUpdates(
          uid,
          new Api.Updates({ updates: [update], users: [], chats: [], date: now(), seq: 0 }),
        );
      }
      return;
    }
    case "callback": {
      const m = event.message;
      const e = world.entitiesFor(m, m.fromId);
      e.users.push(world.renderUser(event.user, m.fromId));
      core.pushUpdates(
        m.fromId,
        new Api.Updates({
          updates: [
            new Api.UpdateBotCallbackQuery({
              queryId: returnBigInt(event.queryId),
              userId: returnBigInt(event.user.id),
              peer: world.peerFor(m.chat, m.fromId),
              msgId: m.id,
              chatInstance: returnBigInt(m.chat.kind === "private" ? m.chat.a * 7919 + m.chat.b : m.chat.id),
              data: event.data,
            }),
          ],
          users: e.users,
          chats: e.chats,
          date: now(),
          seq: 0,
        }),
      );
      return;
    }
  }
}

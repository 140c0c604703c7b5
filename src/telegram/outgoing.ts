/** Our calls in Telegram's terms: text with entities, inline keyboards, and what the answers to sends carry. */
import { Api } from "telegram";
import { HTMLParser } from "telegram/extensions/html.js";
import type { Button, TextOptions } from "./gateway.js";

type Entities = { users: Api.TypeUser[]; chats: Api.TypeChat[] };

export function entitiesOfResult(result: unknown): Entities | undefined {
  if (result instanceof Api.Updates || result instanceof Api.UpdatesCombined) {
    return { users: result.users, chats: result.chats };
  }
  return undefined;
}

/** pts and pts_count our own send moved our box by (private chats and groups only). */
export function ptsOfResult(result: unknown): { pts: number; count: number } | undefined {
  if (result instanceof Api.UpdateShortSentMessage) return { pts: result.pts, count: result.ptsCount };
  if (result instanceof Api.Updates || result instanceof Api.UpdatesCombined) {
    for (const u of result.updates) {
      if (u instanceof Api.UpdateNewMessage || u instanceof Api.UpdateEditMessage) {
        return { pts: u.pts, count: u.ptsCount };
      }
    }
  }
  return undefined;
}

export function sentMessageId(result: unknown): number | undefined {
  if (result instanceof Api.UpdateShortSentMessage) return result.id;
  if (result instanceof Api.Updates || result instanceof Api.UpdatesCombined) {
    for (const u of result.updates) {
      if (u instanceof Api.UpdateMessageID) return u.id;
      if (
        (u instanceof Api.UpdateNewMessage || u instanceof Api.UpdateNewChannelMessage) &&
        "id" in u.message
      ) {
        return u.message.id;
      }
    }
  }
  return undefined;
}

export function formatText(text: string, options: TextOptions): [string, Api.TypeMessageEntity[]] {
  if (!options.html) return [text, []];
  const [message, entities] = HTMLParser.parse(text);
  return [message, entities];
}

export function keyboard(rows: Button[][]): Api.ReplyInlineMarkup {
  return new Api.ReplyInlineMarkup({
    rows: rows.map(
      (row) =>
        new Api.KeyboardButtonRow({
          buttons: row.map((b) =>
            b.url
              ? new Api.KeyboardButtonUrl({ text: b.text, url: b.url })
              : new Api.KeyboardButtonCallback({ text: b.text, data: Buffer.from(b.data ?? "", "utf8") }),
          ),
        }),
    ),
  });
}

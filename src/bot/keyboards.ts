/** Inline keyboards of the bot's own messages; each button is bound to the user it is sent to. */
import type { Button } from "../telegram/gateway.js";
import { encodeMenu } from "./callback-data.js";
import type { BotContext } from "./context.js";

export function mainMenu(ctx: BotContext): Button[][] {
  const userId = ctx.incoming.from.id;
  return [
    [
      { text: ctx.t("menu.queue"), data: encodeMenu("queue", userId) },
      { text: ctx.t("menu.help"), data: encodeMenu("help", userId) },
    ],
  ];
}

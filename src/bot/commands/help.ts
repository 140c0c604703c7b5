import { type Command, EVERYONE } from "../command.js";
import type { ActiveRole, BotContext } from "../context.js";

export const help: Command = {
  name: "help",
  description: "cmd.help",
  roles: EVERYONE,
  async run(ctx) {
    await ctx.reply(helpText(ctx));
  },
};

/** The commands the user's role may run, one a line, and how to send links. */
export function helpText(ctx: BotContext): string {
  const role = ctx.role as ActiveRole;
  const lines = ctx.commands
    .filter((c) => c.roles.includes(role))
    .map((c) => ctx.t("help.line", { name: c.name, description: ctx.t(c.description) }));
  return [ctx.t("help.title"), ...lines, "", ctx.t("help.usage")].join("\n");
}

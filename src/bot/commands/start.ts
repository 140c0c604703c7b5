import { type Command, EVERYONE } from "../command.js";
import { mainMenu } from "../keyboards.js";
import { setMenuFor } from "../menus.js";

export const start: Command = {
  name: "start",
  description: "cmd.start",
  roles: EVERYONE,
  async run(ctx) {
    const from = ctx.incoming.from;
    const name = from.firstName ?? from.username ?? String(from.id);
    const role = ctx.role === "owner" || ctx.role === "admin" ? ctx.role : "user";
    // At start the bot could not reach staff who had never written to it: their menu is set on their /start.
    if (role !== "user") await setMenuFor(ctx.deps, ctx.commands, from.id, role);
    await ctx.reply(ctx.t("start.welcome", { name, id: from.id, role: ctx.t(`role.${role}`) }), {
      buttons: mainMenu(ctx),
    });
  },
};

import { ADMINS, type Command } from "../command.js";
import { changeRole } from "../roles.js";

export const adduser: Command = {
  name: "adduser",
  description: "cmd.adduser",
  roles: ADMINS,
  async run(ctx, args) {
    const [ref = "", roleWord = "user", ...extra] = args.split(/\s+/).filter(Boolean);
    const role = roleWord.toLowerCase();
    if (!ref || extra.length > 0 || (role !== "user" && role !== "admin")) {
      await ctx.reply(ctx.t("adduser.usage"));
      return;
    }
    if (role === "admin" && ctx.role !== "owner") {
      await ctx.reply(ctx.t("adduser.adminOwnerOnly"));
      return;
    }
    await changeRole(ctx, "adduser", ref, role);
  },
};

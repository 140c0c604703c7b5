import { getUser } from "../../db/users.js";
import { ADMINS, type Command } from "../command.js";
import { changeRole, resolveUser } from "../roles.js";

export const unban: Command = {
  name: "unban",
  description: "cmd.unban",
  roles: ADMINS,
  async run(ctx, args) {
    const ref = args.split(/\s+/)[0] ?? "";
    const target = ref ? await resolveUser(ctx, ref) : undefined;
    if (target && (await getUser(ctx.db, target.id))?.role !== "banned") {
      await ctx.reply(ctx.t("unban.notBanned", { who: ref }));
      return;
    }
    // changeRole says what is wrong with a missing or unknown reference, and records the event.
    await changeRole(ctx, "unban", args, "user");
  },
};

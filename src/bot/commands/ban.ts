import { ADMINS, type Command } from "../command.js";
import { changeRole } from "../roles.js";

export const ban: Command = {
  name: "ban",
  description: "cmd.ban",
  roles: ADMINS,
  run: (ctx, args) => changeRole(ctx, "ban", args, "banned"),
};

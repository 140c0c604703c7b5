import { ADMINS, type Command } from "../command.js";
import { changeRole } from "../roles.js";

export const allow: Command = {
  name: "allow",
  description: "cmd.allow",
  roles: ADMINS,
  run: (ctx, args) => changeRole(ctx, "allow", args, "user"),
};

import { type Command, OWNER } from "../command.js";
import { changeRole } from "../roles.js";

export const promote: Command = {
  name: "promote",
  description: "cmd.promote",
  roles: OWNER,
  run: (ctx, args) => changeRole(ctx, "promote", args, "admin"),
};

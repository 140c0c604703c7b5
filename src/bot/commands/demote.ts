import { type Command, OWNER } from "../command.js";
import { changeRole } from "../roles.js";

export const demote: Command = {
  name: "demote",
  description: "cmd.demote",
  roles: OWNER,
  run: (ctx, args) => changeRole(ctx, "demote", args, "user"),
};

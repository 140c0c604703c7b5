/** Every command, in the order /help and the command menu list them. */
import type { Command } from "../command.js";
// admin helper: admin and owner commands
import { addchannel } from "./addchannel.js";
import { addlog } from "./addlog.js";
import { adduser } from "./adduser.js";
import { allow } from "./allow.js";
import { backup } from "./backup.js";
import { ban } from "./ban.js";
import { batch } from "./batch.js";
import { cancel } from "./cancel.js";
import { channels } from "./channels.js";
import { demote } from "./demote.js";
import { features } from "./features.js";
import { forgetme } from "./forgetme.js";
import { health } from "./health.js";
import { help } from "./help.js";
import { history } from "./history.js";
import { limits } from "./limits.js";
import { logchannels } from "./logchannels.js";
import { merge } from "./merge.js";
import { promote } from "./promote.js";
import { queue } from "./queue.js";
import { removechannel } from "./removechannel.js";
import { removelog } from "./removelog.js";
import { removeuser } from "./removeuser.js";
import { settings } from "./settings.js";
import { start } from "./start.js";
import { stats } from "./stats.js";
import { unban } from "./unban.js";
import { usage } from "./usage.js";
import { users } from "./users.js";

export const COMMANDS: readonly Command[] = [
  start,
  help,
  queue,
  cancel,
  batch,
  merge,
  allow,
  ban,
  promote,
  demote,
  // admin helper
  users,
  adduser,
  removeuser,
  unban,
  channels,
  addchannel,
  removechannel,
  logchannels,
  addlog,
  removelog,
  health,
  backup,
  limits,
  features,
  // usercmd
  settings,
  history,
  usage,
  stats,
  forgetme,
];

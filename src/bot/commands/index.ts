/** Every command, in the order /help and the command menu list them. */
import type { Command } from "../command.js";
import { allow } from "./allow.js";
import { ban } from "./ban.js";
import { batch } from "./batch.js";
import { cancel } from "./cancel.js";
import { demote } from "./demote.js";
import { forgetme } from "./forgetme.js";
import { help } from "./help.js";
import { history } from "./history.js";
import { promote } from "./promote.js";
import { queue } from "./queue.js";
import { settings } from "./settings.js";
import { start } from "./start.js";
import { stats } from "./stats.js";
import { usage } from "./usage.js";

export const COMMANDS: readonly Command[] = [
  start,
  help,
  queue,
  cancel,
  batch,
  allow,
  ban,
  promote,
  demote,
  // usercmd
  settings,
  history,
  usage,
  stats,
  forgetme,
];

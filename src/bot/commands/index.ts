/** Every command, in the order /help and the command menu list them. */
import type { Command } from "../command.js";
import { allow } from "./allow.js";
import { ban } from "./ban.js";
import { batch } from "./batch.js";
import { cancel } from "./cancel.js";
import { demote } from "./demote.js";
import { help } from "./help.js";
import { promote } from "./promote.js";
import { queue } from "./queue.js";
import { start } from "./start.js";

export const COMMANDS: readonly Command[] = [start, help, queue, cancel, batch, allow, ban, promote, demote];

import fs from "node:fs/promises";
import path from "node:path";
import { recordEvent } from "../../db/events.js";
import { randomLong } from "../../lib/ids.js";
import { formatBytes } from "../../lib/size.js";
import { type Command, OWNER } from "../command.js";

/** A backup of a big database over a slow link: past this the upload is given up. */
const BACKUP_UPLOAD_TIMEOUT_MS = 15 * 60 * 1000;

/** A consistent snapshot of the database (SQLite's online backup API), sent to the owner as a document. */
export const backup: Command = {
  name: "backup",
  description: "cmd.backup",
  roles: OWNER,
  async run(ctx) {
    const host = ctx.deps.host;
    if (!host) {
      await ctx.reply(ctx.t("backup.unavailable"));
      return;
    }
    const backupTo = host.backup;
    if (!backupTo) {
      await ctx.reply(ctx.t("backup.postgres"));
      return;
    }
    const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, "-");
    const name = `medusa-${stamp}.db`;
    await fs.mkdir(host.dataDir, { recursive: true });
    const dir = await fs.mkdtemp(path.join(host.dataDir, "backup-"));
    try {
      const file = path.join(dir, name);
      await backupTo(file);
      const { size } = await fs.stat(file);
      const uploaded = await ctx.gateway.uploadFile(file, {
        fileName: name,
        signal: AbortSignal.timeout(BACKUP_UPLOAD_TIMEOUT_MS),
      });
      await ctx.gateway.sendFile(ctx.deps.ownerId, {
        file: uploaded,
        randomId: randomLong(),
        fileName: name,
        mimeType: "application/vnd.sqlite3",
        forceDocument: true,
        caption: ctx.t("backup.caption", { size: formatBytes(size) }),
      });
      await recordEvent(ctx.db, {
        category: "admin",
        action: "db.backup",
        actorId: ctx.incoming.from.id,
        data: { bytes: size },
      });
      if (ctx.incoming.chatId !== ctx.deps.ownerId) await ctx.reply(ctx.t("backup.sent"));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  },
};

import type { User } from "../../db/schema.js";
import { listUsersPage } from "../../db/users.js";
import { truncateText } from "../../jobs/telegram-html.js";
import type { Button } from "../../telegram/gateway.js";
import { encodeUsersPage } from "../admin-callback-data.js";
import { ADMINS, type Command } from "../command.js";
import type { BotContext } from "../context.js";
import { NAME_CHARS } from "../render.js";

/** People a page: fits one message with long names. */
export const USERS_PAGE_SIZE = 20;

export const users: Command = {
  name: "users",
  description: "cmd.users",
  roles: ADMINS,
  async run(ctx, args) {
    const page = /^\d{1,5}$/.test(args) ? Math.max(0, Number(args) - 1) : 0;
    const view = await usersPage(ctx, page);
    await ctx.reply(view.text, view.buttons.length > 0 ? { buttons: view.buttons } : {});
  },
};

/** One page of the people with a role, with ◀ ▶ buttons bound to the admin who asked. */
export async function usersPage(
  ctx: BotContext,
  page: number,
): Promise<{ text: string; buttons: Button[][] }> {
  const first = await listUsersPage(ctx.db, { offset: 0, limit: 0 });
  const pages = Math.max(1, Math.ceil(first.total / USERS_PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const { users: rows, total } = await listUsersPage(ctx.db, {
    offset: current * USERS_PAGE_SIZE,
    limit: USERS_PAGE_SIZE,
  });
  const lines = rows.map((u) => userLine(ctx, u));
  const text = [ctx.t("users.title", { total, page: current + 1, pages }), ...lines].join("\n");
  const me = ctx.incoming.from.id;
  const nav: Button[] = [];
  if (current > 0) nav.push({ text: ctx.t("users.prev"), data: encodeUsersPage(current - 1, me) });
  if (current < pages - 1) nav.push({ text: ctx.t("users.next"), data: encodeUsersPage(current + 1, me) });
  return { text, buttons: nav.length > 0 ? [nav] : [] };
}

function userLine(ctx: BotContext, u: User): string {
  const name = truncateText([u.first_name, u.last_name].filter(Boolean).join(" "), NAME_CHARS / 3);
  const role = ctx.t(`role.${u.id === ctx.deps.ownerId ? "owner" : u.role}`);
  const params = { id: u.id, role, name: name || "—", username: u.username ?? "" };
  return ctx.t(u.username ? "users.lineWithUsername" : "users.line", params);
}

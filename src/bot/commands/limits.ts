import { recordEvent } from "../../db/events.js";
import { formatBytes, parseSize } from "../../lib/size.js";
import { type Command, OWNER } from "../command.js";
import type { BotContext } from "../context.js";
import {
  configuredLimits,
  effectiveLimits,
  LIMIT_MAX,
  LIMIT_NAMES,
  type LimitName,
  setLimit,
} from "../user-limits.js";

/** `/limits` shows the per-user limits; `/limits jobs_per_hour 30` sets one; `/limits jobs_per_hour default` resets. */
export const limits: Command = {
  name: "limits",
  description: "cmd.limits",
  roles: OWNER,
  async run(ctx, args) {
    const [rawName, rawValue, ...extra] = args.split(/\s+/).filter(Boolean);
    if (rawName === undefined) {
      await ctx.reply(await limitsText(ctx));
      return;
    }
    const name = rawName.toLowerCase() as LimitName;
    if (!LIMIT_NAMES.includes(name) || rawValue === undefined || extra.length > 0) {
      await ctx.reply(ctx.t("limits.usage", { names: LIMIT_NAMES.join(", ") }));
      return;
    }
    let value: number | null;
    if (rawValue.toLowerCase() === "default") value = null;
    else {
      const parsed =
        name === "bytes_per_day"
          ? parseSize(rawValue)
          : /^\d{1,16}$/.test(rawValue)
            ? Number(rawValue)
            : undefined;
      if (parsed === undefined || !Number.isSafeInteger(parsed) || parsed < 1 || parsed > LIMIT_MAX[name]) {
        await ctx.reply(
          ctx.t(name === "bytes_per_day" ? "limits.badSize" : "limits.badNumber", {
            name,
            max: name === "bytes_per_day" ? formatBytes(LIMIT_MAX[name]) : LIMIT_MAX[name],
          }),
        );
        return;
      }
      value = parsed;
    }
    await setLimit(ctx.db, name, value, ctx.incoming.from.id);
    await recordEvent(ctx.db, {
      category: "admin",
      action: "limit.set",
      actorId: ctx.incoming.from.id,
      subject: name,
      data: { value },
    });
    await ctx.reply(`${ctx.t("limits.saved", { name })}\n\n${await limitsText(ctx)}`);
  },
};

async function limitsText(ctx: BotContext): Promise<string> {
  const { values, overridden } = await effectiveLimits(ctx.db, ctx.deps.limits);
  const configured = configuredLimits(ctx.deps.limits);
  const show = (name: LimitName, n: number) => (name === "bytes_per_day" ? formatBytes(n) : String(n));
  const lines = LIMIT_NAMES.map((name) =>
    ctx.t(overridden.has(name) ? "limits.lineSet" : "limits.line", {
      name,
      value: show(name, values[name]),
      configured: show(name, configured[name]),
    }),
  );
  return [ctx.t("limits.title"), ...lines, "", ctx.t("limits.help")].join("\n");
}

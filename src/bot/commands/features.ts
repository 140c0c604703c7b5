import { recordEvent } from "../../db/events.js";
import type { Button } from "../../telegram/gateway.js";
import { encodeFeature } from "../admin-callback-data.js";
import { type Command, OWNER } from "../command.js";
import type { BotContext } from "../context.js";
import { FEATURES, type Feature, isFeatureOn, features as readFeatures, setFeature } from "../features.js";

/** The owner's switches, one button each: a press flips it and redraws the message. */
export const features: Command = {
  name: "features",
  description: "cmd.features",
  roles: OWNER,
  async run(ctx) {
    const view = await featuresView(ctx);
    await ctx.reply(view.text, { buttons: view.buttons });
  },
};

export async function featuresView(ctx: BotContext): Promise<{ text: string; buttons: Button[][] }> {
  const state = await readFeatures(ctx.db);
  const me = ctx.incoming.from.id;
  const onOff = (on: boolean) => ctx.t(on ? "features.on" : "features.off");
  const lines = FEATURES.map((f) =>
    ctx.t("features.line", { feature: ctx.t(`features.name.${f}`), state: onOff(state[f]) }),
  );
  const buttons = FEATURES.map((f) => [
    { text: `${state[f] ? "✅" : "⛔"} ${ctx.t(`features.name.${f}`)}`, data: encodeFeature(f, me) },
  ]);
  return { text: [ctx.t("features.title"), ...lines, "", ctx.t("features.help")].join("\n"), buttons };
}

/** Flips one switch (the caller checked that the presser is the owner) and records who did it. */
export async function toggleFeature(ctx: BotContext, feature: Feature): Promise<boolean> {
  const on = !(await isFeatureOn(ctx.db, feature));
  await setFeature(ctx.db, feature, on, ctx.incoming.from.id);
  await recordEvent(ctx.db, {
    category: "admin",
    action: "feature.set",
    actorId: ctx.incoming.from.id,
    subject: feature,
    data: { on },
  });
  return on;
}

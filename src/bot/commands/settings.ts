/**
 * /settings: one inline menu, edited in place, bound to its user. Each choice is saved in user_settings and read when
 * links are queued (src/bot/enqueue.ts writes it into the job). A caption template or a thumbnail photo is asked
 * for with a button and taken from the user's next message in their chat with the bot, for a few minutes.
 */
import {
  type EffectiveSettings,
  getAwaitedInput,
  getUserSettings,
  setAwaitedInput,
  updateUserSettings,
} from "../../db/settings.js";
import { DEFAULT_CAPTION_TEMPLATE, renderCaption } from "../../jobs/caption.js";
import { BOT_FILE_LIMIT } from "../../jobs/steps.js";
import { MESSAGE_LIMIT, truncateHtml, truncateText, visibleText } from "../../jobs/telegram-html.js";
import { QUALITIES, type Quality } from "../../lib/quality.js";
import { formatBytes, MIB } from "../../lib/size.js";
import type { Button, IncomingCallback, IncomingMessage } from "../../telegram/gateway.js";
import type { SettingsData } from "../callback-data.js";
import { encodeSettings } from "../callback-data.js";
import { checkTemplate, knownPlaceholders, SAMPLE_FILE } from "../caption-check.js";
import { type Command, EVERYONE } from "../command.js";
import type { BotContext } from "../context.js";
import {
  isImage,
  MAX_THUMBNAIL_UPLOAD_BYTES,
  removeCustomThumbnail,
  saveCustomThumbnail,
} from "../custom-thumbnail.js";
import { allowedDestinations } from "../destination.js";
import { thrownText } from "../error-text.js";
import type { MessageKey } from "../i18n/en.js";
import {
  html,
  LANGUAGES,
  type Language,
  pickLanguage,
  type Translate,
  translator,
} from "../i18n/translate.js";
import { findLinks } from "../links.js";

/** How long a "send me …" button waits for the message. */
const AWAIT_MS = 5 * 60_000;
/** Split sizes offered, in MiB; only those below the account's limit are shown. */
const SPLIT_PRESETS_MIB = [256, 512, 1024, 1536] as const;

export const settings: Command = {
  name: "settings",
  description: "cmd.settings",
  roles: EVERYONE,
  async run(ctx) {
    const view = await mainView(ctx);
    await ctx.reply(view.text, { buttons: view.buttons });
  },
};

interface View {
  text: string;
  buttons: Button[][];
}

async function mainView(ctx: BotContext, note?: string): Promise<View> {
  const userId = ctx.incoming.from.id;
  const s = await getUserSettings(ctx.db, userId);
  const t = ctx.t;
  const b = (text: string, action: SettingsData["action"], arg: string | number): Button => ({
    text,
    data: encodeSettings(action, arg, userId),
  });
  const mark = (on: boolean, text: string) => (on ? `✓ ${text}` : text);
  const text = [
    ...(note ? [note, ""] : []),
    t("settings.title"),
    t("settings.line.as", {
      value: t(s.uploadAs === "document" ? "settings.as.document" : "settings.as.media"),
    }),
    t("settings.line.quality", {
      value: s.askQuality ? t("settings.quality.ask") : qualityName(ctx, s.quality),
    }),
    t("settings.line.split", { value: splitName(ctx, s.splitBytes) }),
    t("settings.line.destination", { value: await destinationName(ctx, s) }),
    t("settings.line.thumbnail", {
      value: t(s.thumbnailPath ? "settings.thumbnail.custom" : "settings.thumbnail.frame"),
    }),
    t("settings.line.language", { value: languageName(ctx, s.language) }),
    "",
    t("settings.preview", { preview: html(preview(t, s.captionTemplate)) }),
  ].join("\n");
  const thumbRow = [b(t("settings.button.thumbnail"), "th", "set")];
  if (s.thumbnailPath) thumbRow.push(b(t("settings.button.thumbnailRemove"), "th", "del"));
  return {
    text,
    buttons: [
      [
        b(mark(s.uploadAs === "media", t("settings.as.media")), "as", "media"),
        b(mark(s.uploadAs === "document", t("settings.as.document")), "as", "doc"),
      ],
      [b(t("settings.button.quality"), "q", "menu"), b(t("settings.button.split"), "sp", "menu")],
      [b(t("settings.button.destination"), "dst", "menu"), b(t("settings.button.language"), "lang", "menu")],
      [b(t("settings.button.caption"), "cap", "edit"), b(t("settings.button.captionReset"), "cap", "reset")],
      thumbRow,
    ],
  };
}

/** The user's template (or the default) rendered from the sample file. */
function preview(t: Translate, template: string | null): string {
  try {
    return renderCaption(template ?? DEFAULT_CAPTION_TEMPLATE, SAMPLE_FILE);
  } catch (error) {
    // A template saved before its rules tightened: say so rather than fail the whole menu.
    return thrownText(t, error);
  }
}

function qualityName(ctx: BotContext, quality: Quality): string {
  if (quality === "best") return ctx.t("settings.quality.best");
  if (quality === "audio") return ctx.t("settings.quality.audio");
  return `${quality}p`;
}

function fileLimit(ctx: BotContext): number {
  return ctx.deps.fileLimit ?? BOT_FILE_LIMIT;
}

function splitName(ctx: BotContext, bytes: number | null): string {
  if (bytes === null || bytes >= fileLimit(ctx)) {
    return ctx.t("settings.split.limit", { size: formatBytes(fileLimit(ctx)) });
  }
  return formatBytes(bytes);
}

function languageName(ctx: BotContext, language: Language | null): string {
  if (language === null) return ctx.t("settings.language.auto");
  return ctx.t(`settings.language.${language}`);
}

async function destinationName(ctx: BotContext, s: EffectiveSettings): Promise<string> {
  if (s.destinationChatId === null) return ctx.t("settings.destination.own");
  const chat = (await allowedDestinations(ctx)).find((c) => c.id === s.destinationChatId);
  return chat ? chatName(chat) : String(s.destinationChatId);
}

function chatName(chat: { id: number; title: string | null; username: string | null }): string {
  return truncateText(chat.title ?? (chat.username ? `@${chat.username}` : String(chat.id)), 60);
}

/** The menu's buttons. `data.userId` is the presser (the router checked); every `arg` is checked here. */
export async function handleSettingsPress(
  ctx: BotContext,
  callback: IncomingCallback,
  data: SettingsData,
): Promise<void> {
  const userId = data.userId;
  // Edited before the answer: once the spinner stops, the menu reads what was chosen.
  const show = async (view: View) => {
    await editMenu(ctx, callback, view);
    await ctx.answer();
  };
  const refuse = () => ctx.answer(ctx.t("callback.invalid"), true);
  const saved = async (patch: Partial<EffectiveSettings>) => {
    await updateUserSettings(ctx.db, userId, patch);
    ctx.log.info({ userId, patch: Object.keys(patch) }, "settings changed");
    await show(await mainView(ctx));
  };
  const arg = data.arg;
  // A caption or a photo is taken from the private chat only (in a group it would be anyone's message).
  const asks = (data.action === "cap" && arg === "edit") || (data.action === "th" && arg === "set");
  if (asks && callback.chatKind !== "user") {
    await ctx.answer(ctx.t("settings.privateOnly"), true);
    return;
  }
  switch (data.action) {
    case "main":
      await setAwaitedInput(ctx.db, userId, null);
      return show(await mainView(ctx));
    case "as":
      if (arg !== "media" && arg !== "doc") return refuse();
      return saved({ uploadAs: arg === "doc" ? "document" : "media" });
    case "q":
      if (arg === "menu") {
        const current = await getUserSettings(ctx.db, userId);
        const mark = (on: boolean, text: string) => (on ? `✓ ${text}` : text);
        // "ask": no default; site links get the quality buttons (src/bot/link-prompts.ts).
        return show(
          pickView(ctx, "settings.pick.quality", [
            [mark(current.askQuality, ctx.t("settings.quality.ask")), "q", "ask"],
            ...QUALITIES.map(
              (q) =>
                [mark(!current.askQuality && q === current.quality, qualityName(ctx, q)), "q", q] as [
                  string,
                  "q",
                  string,
                ],
            ),
          ]),
        );
      }
      if (arg === "ask") return saved({ askQuality: true, quality: "best" });
      if (!(QUALITIES as readonly string[]).includes(arg)) return refuse();
      return saved({ quality: arg as Quality, askQuality: false });
    case "sp": {
      const presets = SPLIT_PRESETS_MIB.filter((m) => m * MIB < fileLimit(ctx));
      if (arg === "menu") {
        return show(
          pickView(ctx, "settings.pick.split", [
            ...presets.map((m): Choice => [formatBytes(m * MIB), "sp", m]),
            [ctx.t("settings.split.limit", { size: formatBytes(fileLimit(ctx)) }), "sp", "0"],
          ]),
        );
      }
      if (arg === "0") return saved({ splitBytes: null });
      const mib = Number(arg);
      if (!presets.includes(mib as never)) return refuse();
      return saved({ splitBytes: mib * MIB });
    }
    case "lang":
      if (arg === "menu") {
        return show(
          pickView(ctx, "settings.pick.language", [
            ...LANGUAGES.map((l): Choice => [ctx.t(`settings.language.${l}`), "lang", l]),
            [ctx.t("settings.language.auto"), "lang", "auto"],
          ]),
        );
      }
      if (arg !== "auto" && !(LANGUAGES as string[]).includes(arg)) return refuse();
      {
        const language = arg === "auto" ? null : (arg as Language);
        // The menu comes back in the language just chosen.
        ctx.language = language ?? pickLanguage(ctx.incoming.from.languageCode);
        ctx.t = translator(ctx.language);
        return saved({ language });
      }
    case "dst": {
      const chats = await allowedDestinations(ctx);
      if (arg === "menu") {
        return show(
          pickView(ctx, "settings.pick.destination", [
            [ctx.t("settings.destination.own"), "dst", "0"],
            ...chats.map((c): Choice => [chatName(c), "dst", c.id]),
          ]),
        );
      }
      if (arg === "0") return saved({ destinationChatId: null });
      const chat = chats.find((c) => String(c.id) === arg);
      if (!chat) return refuse();
      const check = await ctx.gateway.canPost(chat.id);
      if (!check.ok) {
        await ctx.answer(visibleText(ctx.t("destination.cannotPost", { title: chatName(chat) })), true);
        return;
      }
      return saved({ destinationChatId: chat.id });
    }
    case "cap":
      if (arg === "reset") return saved({ captionTemplate: null });
      if (arg !== "edit") return refuse();
      await setAwaitedInput(ctx.db, userId, { kind: "caption", until: awaitUntil(ctx) });
      {
        const current = (await getUserSettings(ctx.db, userId)).captionTemplate ?? DEFAULT_CAPTION_TEMPLATE;
        return show({
          text: ctx.t("settings.caption.ask", { template: current, placeholders: knownPlaceholders() }),
          buttons: [[backButton(ctx)]],
        });
      }
    case "th":
      if (arg === "del") {
        const s = await getUserSettings(ctx.db, userId);
        if (s.thumbnailPath) await removeCustomThumbnail(s.thumbnailPath);
        return saved({ thumbnailPath: null });
      }
      if (arg !== "set") return refuse();
      if (!ctx.deps.dataDir || !ctx.deps.media) {
        await ctx.answer(ctx.t("settings.thumbnail.unavailable"), true);
        return;
      }
      await setAwaitedInput(ctx.db, userId, { kind: "thumbnail", until: awaitUntil(ctx) });
      return show({ text: ctx.t("settings.thumbnail.ask"), buttons: [[backButton(ctx)]] });
  }
}

type Choice = [text: string, action: SettingsData["action"], arg: string | number];

function pickView(ctx: BotContext, title: MessageKey, choices: readonly Choice[]): View {
  const userId = ctx.incoming.from.id;
  const rows: Button[][] = [];
  for (const [i, [text, action, arg]] of choices.entries()) {
    const button = { text, data: encodeSettings(action, arg, userId) };
    // Two a row for short labels (qualities, sizes), one a row for chat names.
    if (action !== "dst" && i % 2 === 1) rows[rows.length - 1]!.push(button);
    else rows.push([button]);
  }
  rows.push([backButton(ctx)]);
  return { text: ctx.t(title), buttons: rows };
}

function backButton(ctx: BotContext): Button {
  return { text: ctx.t("settings.button.back"), data: encodeSettings("main", 0, ctx.incoming.from.id) };
}

function awaitUntil(ctx: BotContext): string {
  return new Date(ctx.now() + AWAIT_MS).toISOString();
}

async function editMenu(ctx: BotContext, callback: IncomingCallback, view: View): Promise<void> {
  await ctx.gateway.editText(callback.chatId, callback.messageId, truncateHtml(view.text, MESSAGE_LIMIT), {
    html: true,
    buttons: view.buttons,
  });
}

/**
 * The message a settings button asked for: a caption template (text) or a thumbnail (a photo). True when it was
 * taken (the router does nothing more with it); commands never reach here.
 */
export async function handleSettingsInput(ctx: BotContext, message: IncomingMessage): Promise<boolean> {
  const userId = message.from.id;
  const awaited = await getAwaitedInput(ctx.db, userId, new Date(ctx.now()).toISOString());
  if (!awaited) return false;
  if (awaited.kind === "caption") {
    if (message.file || message.text.trim() === "") return false;
    const template = message.text.trim();
    // Links without a placeholder are links the user forgot the button over, not a caption: queue them.
    if (!template.includes("{") && findLinks(template).links.length > 0) {
      await setAwaitedInput(ctx.db, userId, null);
      return false;
    }
    const check = checkTemplate(template, ctx.t);
    if (!check.ok) {
      // The button still waits: the user fixes the template and sends it again.
      await ctx.reply([ctx.t("settings.caption.refused"), ...check.reasons].join("\n"));
      return true;
    }
    await updateUserSettings(ctx.db, userId, { captionTemplate: template });
    await setAwaitedInput(ctx.db, userId, null);
    ctx.log.info({ userId }, "caption template changed");
    const view = await mainView(ctx, ctx.t("settings.caption.saved"));
    await ctx.reply(view.text, { buttons: view.buttons });
    return true;
  }
  if (!message.file || !isImage(message.file)) return false;
  const { dataDir, media } = ctx.deps;
  if (!dataDir || !media) return false;
  const saved = await saveCustomThumbnail({ gateway: ctx.gateway, media, dataDir }, userId, message.file);
  if (!saved.ok) {
    ctx.log.info({ userId, reason: saved.reason }, "thumbnail refused");
    const text =
      saved.reason === "dimensions"
        ? ctx.t("settings.thumbnail.dimensions", { width: saved.width, height: saved.height })
        : saved.reason === "tooBig"
          ? ctx.t("settings.thumbnail.tooBig", { max: formatBytes(MAX_THUMBNAIL_UPLOAD_BYTES) })
          : ctx.t(
              saved.reason === "notImage" ? "settings.thumbnail.notImage" : "settings.thumbnail.unreadable",
            );
    await ctx.reply(text);
    return true;
  }
  await updateUserSettings(ctx.db, userId, { thumbnailPath: saved.path });
  await setAwaitedInput(ctx.db, userId, null);
  ctx.log.info({ userId, width: saved.width, height: saved.height, size: saved.size }, "thumbnail set");
  const note = ctx.t("settings.thumbnail.saved", { width: saved.width, height: saved.height });
  const view = await mainView(ctx, note);
  await ctx.reply(view.text, { buttons: view.buttons });
  return true;
}

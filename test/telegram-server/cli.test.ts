import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { CallbackQuery, type CallbackQueryEvent } from "telegram/events/CallbackQuery.js";
import { NewMessage, type NewMessageEvent } from "telegram/events/index.js";
import { createTelegramClient } from "../../src/telegram/connect.js";
import { TelegramControl } from "../support/telegram-control.js";
import { closeClient, EVENT_TIMEOUT_MS, withTimeout } from "./helpers.js";

interface StartLine {
  mtproto: string;
  control: string;
  env: Record<string, string>;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} before printing`)));
  });
}

describe("npm run local-telegram and its control API", () => {
  let child: ChildProcess;
  let line: StartLine;
  let control: TelegramControl;
  let client: TelegramClient | undefined;

  before(async () => {
    child = spawn(process.execPath, ["--import", "tsx", "test/support/telegram-server/cli.ts"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    line = JSON.parse(await withTimeout(firstLine(child), EVENT_TIMEOUT_MS, "start line")) as StartLine;
    control = new TelegramControl(line.control);
  });
  after(async () => {
    await closeClient(client);
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("prints exactly the environment a Medusa process needs", () => {
    assert.deepEqual(Object.keys(line.env).sort(), [
      "BOT_TOKEN",
      "OWNER_ID",
      "TELEGRAM_API_HASH",
      "TELEGRAM_API_ID",
      "TELEGRAM_DC_ID",
      "TELEGRAM_SERVER",
      "TELEGRAM_SERVER_KEY_FILE",
    ]);
    assert.match(line.env.TELEGRAM_API_HASH!, /^[0-9a-f]{32}$/);
    assert.match(line.env.BOT_TOKEN!, /^\d{3,20}:[\w-]{30,64}$/);
    assert.equal(line.env.TELEGRAM_SERVER, line.mtproto);
    assert.ok(existsSync(line.env.TELEGRAM_SERVER_KEY_FILE!));
  });

  it("lets a bot built from that environment talk to a user driven through the control API", async () => {
    const env = line.env;
    const [host, port] = env.TELEGRAM_SERVER!.split(":");
    client = createTelegramClient({
      apiId: Number(env.TELEGRAM_API_ID),
      apiHash: env.TELEGRAM_API_HASH!,
      server: {
        host: host!,
        port: Number(port),
        dcId: Number(env.TELEGRAM_DC_ID),
        publicKeyPem: await readFile(env.TELEGRAM_SERVER_KEY_FILE!, "utf8"),
      },
    });
    await client.start({ botAuthToken: env.BOT_TOKEN! });
    const bot = client;
    const me = (await bot.getMe()) as Api.User;
    const owner = Number(env.OWNER_ID);
    const chat = { user: owner, peer: Number(me.id) };

    // Text in, a reply with an inline keyboard out.
    bot.addEventHandler(async (e: NewMessageEvent) => {
      if (e.message.message === "/menu") {
        await e.message.respond({
          message: "pick one",
          buttons: [[new Api.KeyboardButtonCallback({ text: "Cancel", data: Buffer.from("cancel:7") })]],
        });
      }
    }, new NewMessage({}));
    bot.addEventHandler(async (e: CallbackQueryEvent) => {
      // CallbackQueryEvent.edit() is broken in gramjs 2.26 (passes its params wrongly): edit by id.
      const q = e.query as Api.UpdateBotCallbackQuery;
      await bot.editMessage(q.peer, { message: q.msgId, text: "cancelled" });
      await e.answer({ message: `got ${e.query.data?.toString()}` });
    }, new CallbackQuery({}));
    await control.sendText(owner, chat, "/menu");
    const menu = await control.waitForMessage(
      chat,
      { fromId: Number(me.id), textIncludes: "pick" },
      EVENT_TIMEOUT_MS,
    );
    assert.deepEqual(menu.buttons, [[{ text: "Cancel", data: "cancel:7", url: null }]]);

    // A button press reaches the bot as a CallbackQuery; its answer and edit come back.
    const answer = await control.pressButton(owner, chat, menu.id, { data: "cancel:7" }, EVENT_TIMEOUT_MS);
    assert.deepEqual(answer, { answered: true, message: "got cancel:7", alert: false });
    const edited = (await control.messages(chat)).find((m) => m.id === menu.id)!;
    assert.equal(edited.text, "cancelled");
    assert.equal(edited.edits[0]?.text, "pick one");
    assert.notEqual(edited.editDate, null);

    // A document the user sends can be downloaded by the bot (batch .txt files).
    const received = new Promise<NewMessageEvent>((resolve) =>
      bot.addEventHandler(
        (e: NewMessageEvent) => (e.message.media ? resolve(e) : undefined),
        new NewMessage({}),
      ),
    );
    const content = Buffer.from("https://example.com/a.mp4\nhttps://example.com/b.mp4\n");
    await control.sendDocument(owner, chat, { name: "links.txt", mimeType: "text/plain", content });
    const event = await withTimeout(received, EVENT_TIMEOUT_MS, "document message");
    const downloaded = (await bot.downloadMedia(event.message, {})) as Buffer;
    assert.equal(Buffer.compare(downloaded, content), 0);

    const counters = await control.counters();
    assert.ok(counters.rpcs["upload.GetFile"]! >= 1);
    assert.ok(counters.connectionsOpen >= 1);
  });

  it("stops on SIGTERM with exit code 0 and removes its temp files", async () => {
    await closeClient(client);
    client = undefined;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await withTimeout(exited, EVENT_TIMEOUT_MS, "exit"), 0);
    assert.equal(existsSync(line.env.TELEGRAM_SERVER_KEY_FILE!), false);
  });
});

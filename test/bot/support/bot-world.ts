/**
 * The bot against the local Telegram server: a real gateway on a real SQLite file, the bot's handler on its updates,
 * and people in every role who write to it, send lists and press buttons as Telegram users do.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { type Bot, createBot, MAX_LINKS_PER_MESSAGE } from "../../../src/bot/bot.js";
import type { BotDeps, BotLimits, HostDeps, StatusHooks } from "../../../src/bot/context.js";
import type { PromptSettings } from "../../../src/bot/link-prompts.js";
import type { TelegramConfig } from "../../../src/config.js";
import { backupDatabase, type OpenedDatabase, openAndMigrate } from "../../../src/db/database.js";
import type { Role } from "../../../src/db/schema.js";
import { ensureOwner, setRole } from "../../../src/db/users.js";
import { ytdlpProbe } from "../../../src/fetch/ytdlp/probe.js";
import { createLogger } from "../../../src/logger.js";
import { openBotGateway } from "../../../src/telegram/bot-client.js";
import type { Incoming, TelegramGateway } from "../../../src/telegram/gateway.js";
import { installGramjsPatches } from "../../../src/telegram/gramjs-patches.js";
import { FFMPEG, FFPROBE, YTDLP } from "../../support/media-fixtures.js";
import { type RunningTelegramServer, startTelegramServer } from "../../support/telegram-server/index.js";
import type { ChatSpec, MessageView } from "../../support/telegram-server/server.js";
import { tempDir } from "../../support/temp-dir.js";
import { API_HASH, API_ID } from "../../telegram-server/helpers.js";

/** Generous: this machine is shared and slow; nothing waits this long when things work. */
export const WAIT_MS = 30_000;

export interface Person {
  id: number;
  name: string;
}

export interface BotWorld {
  srv: RunningTelegramServer;
  dir: string;
  config: TelegramConfig;
  database: OpenedDatabase;
  gateway: TelegramGateway;
  bot: Bot;
  /** What the bot was made with: a test makes another bot from it (a restart of the process). */
  botDeps: BotDeps;
  botUser: { id: number; username: string };
  owner: Person;
  admin: Person;
  user: Person;
  /** A user whose Telegram app is in Russian. */
  russian: Person;
  stranger: Person;
  banned: Person;
  /** What /health and /backup read, live: a test may change it (e.g. LOG_CHANNELS) after creating chats. */
  host: HostDeps;
  /** How often the bot woke the runner. */
  wakes: number;
  /** Every update the gateway handed to the bot, in order. */
  received: Incoming[];
  /** What the bot logged at info and above. */
  logs: Record<string, unknown>[];
  chat(person: Person): ChatSpec;
  /** Sends text as `person` and waits for the bot's first message after it in that chat. */
  say(person: Person, text: string, replyTo?: number): Promise<MessageView>;
  /** Sends text as `person` without waiting; returns the sent message. */
  send(person: Person, text: string, replyTo?: number): MessageView;
  sendDocument(
    person: Person,
    name: string,
    content: string | Buffer,
    mimeType?: string,
  ): Promise<MessageView>;
  /** The bot's first message in `chat` after message id `afterId`. */
  replyAfter(chat: ChatSpec, afterId: number): Promise<MessageView>;
  /** The bot's messages in `chat` after `afterId`, as they are now. */
  botMessages(chat: ChatSpec, afterId?: number): MessageView[];
  /**
   * Resolves once every update sent so far was handled: updates are handled one at a time in order, so the owner's
   * /help answered means everything before it was. What a test says did not happen is checked after this.
   */
  barrier(): Promise<void>;
}

export interface BotWorldOptions {
  limits?: Partial<BotLimits>;
  status?: StatusHooks;
  /** The bot's clock; a fixed one keeps every request of a test in one rate window however slow the machine. */
  clock?: () => number;
  /** What /health and /backup see (admin helper); the data folder is the test's temp dir by default. */
  host?: Partial<HostDeps>;
  /** The largest file the bot says it sends (what /merge bounds a merge by). */
  fileLimit?: number;
  /**
   * Quality buttons and playlist confirms for site links, probed by the real yt-dlp (private networks allowed: the
   * sites are on 127.0.0.1). Their clock is started, and stopped at the end.
   */
  prompts?: Partial<PromptSettings>;
}

/** The link questions of a world: real yt-dlp, and small timeouts a test may override. */
export function testPrompts(overrides: Partial<PromptSettings> = {}): PromptSettings {
  return {
    probe: (url, signal) =>
      ytdlpProbe(url, {
        ytdlpPath: YTDLP,
        guard: { allowPrivateNetworks: true },
        timeoutMs: 60_000,
        signal,
        playlist: true,
      }),
    qualityTimeoutMs: 60_000,
    maxPlaylistItems: 50,
    ...overrides,
  };
}

export async function startBotWorld(t: TestContext, options: BotWorldOptions = {}): Promise<BotWorld> {
  installGramjsPatches();
  const dir = tempDir(t, "medusa-bot-");
  const srv = await startTelegramServer({ control: false });
  const keyFile = join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const botView = srv.server.createBot({ username: "medusa_bot" });
  const person = (firstName: string, langCode = "en", username?: string): Person => {
    const u = srv.server.createUser({ firstName, langCode, ...(username ? { username } : {}) });
    return { id: u.id, name: firstName };
  };
  const owner = person("Olga", "en", "olga");
  const admin = person("Adam", "en", "adam");
  const user = person("Ursula", "en-GB", "ursula");
  const russian = person("Борис", "ru", "boris");
  const stranger = person("Stan", "en", "stan");
  const banned = person("Bert", "en", "bert");
  const config: TelegramConfig = {
    apiId: API_ID,
    apiHash: API_HASH,
    botToken: botView.botToken ?? "",
    ownerId: String(owner.id),
    userSession: undefined,
    sessionFile: join(dir, "session"),
    server: { host: "127.0.0.1", port: srv.mtprotoPort, dcId: srv.dcId, publicKeyFile: keyFile },
  };
  const database = await openAndMigrate(join(dir, "medusa.db"));
  const db = database.db;
  await db.transaction().execute((trx) => ensureOwner(trx, owner.id));
  const roles: [Person, Role][] = [
    [admin, "admin"],
    [user, "user"],
    [russian, "user"],
    [banned, "banned"],
  ];
  for (const [p, role] of roles) await setRole(db, p.id, role, owner.id);

  const gateway = await openBotGateway(config, { db, log: createLogger({ level: "silent" }) });
  t.after(async () => {
    // Link questions first: their clock reads the database and sends through the gateway.
    await world.bot?.stopPrompts();
    await gateway.stop().catch(() => undefined);
    await database.close();
    await srv.close();
  });
  const world = {} as BotWorld;
  const host: HostDeps = {
    dataDir: dir,
    minFreeDisk: 1024 * 1024,
    ffmpegPath: "ffmpeg",
    ytdlpPath: "yt-dlp",
    logChannels: [],
    backup: (destination) => backupDatabase(database, destination),
    startedAt: Date.now(),
    ...options.host,
  };
  const logs: Record<string, unknown>[] = [];
  const botDeps = {
    db,
    gateway,
    log: createLogger({
      level: "info",
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    }),
    ownerId: owner.id,
    limits: {
      queuedJobsPerUser: 50,
      ratePerMinute: 20,
      linksPerMessage: MAX_LINKS_PER_MESSAGE,
      workers: 2,
      ...options.limits,
    },
    wake: () => {
      world.wakes++;
    },
    ...(options.status ? { status: options.status } : {}),
    dataDir: join(dir, "data"),
    media: { ffmpegPath: FFMPEG, ffprobePath: FFPROBE, toolTimeoutMs: 60_000 },
    host,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.fileLimit ? { fileLimit: options.fileLimit } : {}),
    ...(options.prompts ? { prompts: testPrompts(options.prompts) } : {}),
  };
  const bot = createBot(botDeps);
  if (options.prompts) bot.startPrompts();
  const received: Incoming[] = [];
  await gateway.start((incoming) => {
    received.push(incoming);
    // world.bot: a test may put a new bot in (a restart) and the updates go to it.
    return (world.bot ?? bot).handle(incoming);
  });

  const chat = (p: Person): ChatSpec => ({ user: p.id, peer: botView.id });
  const fromBot = (m: MessageView) => m.fromId === botView.id;
  Object.assign(world, {
    srv,
    dir,
    config,
    database,
    gateway,
    bot,
    botDeps,
    botUser: { id: botView.id, username: "medusa_bot" },
    owner,
    admin,
    user,
    russian,
    stranger,
    banned,
    host,
    wakes: 0,
    received,
    logs,
    chat,
    send: (p: Person, text: string, replyTo?: number) => srv.server.sendText(p.id, chat(p), text, replyTo),
    replyAfter: (c: ChatSpec, afterId: number) =>
      srv.server.waitForMessage(c, (m) => fromBot(m) && m.id > afterId, WAIT_MS),
    botMessages: (c: ChatSpec, afterId = 0) =>
      srv.server.messages(c, false).filter((m) => fromBot(m) && m.id > afterId),
    async say(p: Person, text: string, replyTo?: number) {
      const sent = world.send(p, text, replyTo);
      return world.replyAfter(chat(p), sent.id);
    },
    async sendDocument(p: Person, name: string, content: string | Buffer, mimeType = "text/plain") {
      return srv.server.sendDocument(p.id, chat(p), {
        name,
        mimeType,
        content: typeof content === "string" ? Buffer.from(content) : content,
      });
    },
    async barrier() {
      await world.say(owner, "/help");
    },
  } satisfies Partial<BotWorld>);
  return world;
}

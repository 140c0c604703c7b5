/** Commands for each role, through the local Telegram server: what each person sees, and what they are refused. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listEvents } from "../../src/db/events.js";
import { getUser } from "../../src/db/users.js";
import { commandSetKey } from "../support/telegram-server/world.js";
import { startBotWorld } from "./support/bot-world.js";

describe("commands by role", () => {
  it("/start welcomes each role with their id and an inline menu bound to them; Russian for a Russian app", async (t) => {
    const w = await startBotWorld(t);
    for (const [person, role] of [
      [w.owner, "owner"],
      [w.admin, "admin"],
      [w.user, "user"],
    ] as const) {
      const reply = await w.say(person, "/start");
      assert.match(reply.text, new RegExp(`Hello, ${person.name}!`));
      assert.ok(reply.text.includes(`Your id: ${person.id} · role: ${role}`), reply.text);
      assert.deepEqual(
        reply.buttons?.flat().map((b) => b.data),
        [`m:queue:${person.id}`, `m:help:${person.id}`],
      );
    }
    const ru = await w.say(w.russian, "/start");
    assert.ok(ru.text.includes(`Здравствуйте, ${w.russian.name}!`), ru.text);
    assert.ok(ru.text.includes(`Ваш id: ${w.russian.id} · роль: пользователь`), ru.text);
    assert.deepEqual(
      ru.buttons?.flat().map((b) => b.text),
      ["📋 Моя очередь", "❓ Помощь"],
    );
  });

  it("/help lists what the role may run", async (t) => {
    const w = await startBotWorld(t);
    const names = (text: string) => [...text.matchAll(/^\/(\w+) — /gm)].map((m) => m[1]);
    const base = ["start", "help", "queue", "cancel", "batch", "merge"];
    const mine = ["settings", "history", "usage", "forgetme"];
    const staff = ["settings", "history", "usage", "stats", "forgetme"];
    assert.deepEqual(names((await w.say(w.user, "/help")).text), [...base, ...mine]);
    // The admin helper's commands follow (test/bot/admin.test.ts covers them).
    const adminMore = [
      "users",
      "adduser",
      "removeuser",
      "unban",
      "channels",
      "addchannel",
      "removechannel",
      "logchannels",
      "health",
    ];
    assert.deepEqual(names((await w.say(w.admin, "/help")).text), [
      ...base,
      "allow",
      "ban",
      ...adminMore,
      ...staff,
    ]);
    assert.deepEqual(names((await w.say(w.owner, "/help")).text), [
      ...base,
      "allow",
      "ban",
      "promote",
      "demote",
      "users",
      "adduser",
      "removeuser",
      "unban",
      "channels",
      "addchannel",
      "removechannel",
      "logchannels",
      "addlog",
      "removelog",
      "health",
      "backup",
      "limits",
      "features",
      ...staff,
    ]);
    assert.match((await w.say(w.russian, "/help")).text, /^Команды\n\/start — приветствие и ваш id/);
  });

  it("takes the @botname suffix, ignores commands for another bot, hints at unknown commands", async (t) => {
    const w = await startBotWorld(t);
    assert.match((await w.say(w.user, "/start@medusa_bot")).text, /Hello, Ursula!/);
    assert.match((await w.say(w.user, "/HELP@Medusa_Bot")).text, /^Commands\n/);
    const other = w.send(w.user, "/start@other_bot");
    const unknown = await w.say(w.user, "/frobnicate now");
    assert.equal(unknown.text, "I do not know /frobnicate. /help lists the commands.");
    assert.deepEqual(
      w.botMessages(w.chat(w.user), other.id).map((m) => m.id),
      [unknown.id],
      "no answer to /start@other_bot",
    );
    assert.equal(
      (await w.say(w.user, "just words")).text,
      "Send me a link (http or https), or a .txt list of links. /help tells more.",
    );
  });

  it("refuses admin commands to users and owner commands to admins, changing nothing", async (t) => {
    const w = await startBotWorld(t);
    assert.equal(
      (await w.say(w.user, `/allow ${w.stranger.id}`)).text,
      "/allow is not available to you. /help lists yours.",
    );
    assert.equal(
      (await w.say(w.user, `/ban ${w.admin.id}`)).text,
      "/ban is not available to you. /help lists yours.",
    );
    assert.equal(
      (await w.say(w.admin, `/promote ${w.user.id}`)).text,
      "/promote is not available to you. /help lists yours.",
    );
    assert.equal(await getUser(w.database.db, w.stranger.id), undefined);
    assert.equal((await getUser(w.database.db, w.user.id))?.role, "user");
    assert.deepEqual(await listEvents(w.database.db, { category: "admin" }), []);
  });

  it("tells a stranger their id and how to ask, once a minute, and does nothing else", async (t) => {
    // A clock that stands still keeps the three messages in one minute, however slow the machine is.
    const at = Date.now();
    const w = await startBotWorld(t, { clock: () => at });
    const reply = await w.say(w.stranger, "https://example.com/a.mp4");
    assert.equal(
      reply.text,
      `You do not have access to this bot yet.\nYour Telegram id: ${w.stranger.id}\nSend this id to the bot's owner and ask them to run /allow ${w.stranger.id}.`,
    );
    const fetches = () => w.srv.server.counters().rpcs["upload.GetFile"] ?? 0;
    const before = fetches();
    w.send(w.stranger, "/start");
    w.send(w.stranger, "https://example.com/b.mp4");
    await w.sendDocument(w.stranger, "list.txt", "https://example.com/c.mp4\n");
    await w.barrier();
    assert.equal(w.botMessages(w.chat(w.stranger)).length, 1, "one notice, not one per message");
    assert.equal(fetches(), before, "a stranger's list is not downloaded");
    const jobs = await w.database.db.selectFrom("jobs").selectAll().execute();
    assert.deepEqual(jobs, []);
    assert.equal(await getUser(w.database.db, w.stranger.id), undefined, "no users row for a stranger");
    assert.equal(w.wakes, 0);
  });

  it("gives a banned user nothing at all", async (t) => {
    const w = await startBotWorld(t);
    w.send(w.banned, "/start");
    w.send(w.banned, "https://example.com/a.mp4");
    w.send(w.banned, "/queue");
    await w.barrier();
    assert.deepEqual(w.botMessages(w.chat(w.banned)), []);
    assert.deepEqual(await w.database.db.selectFrom("jobs").selectAll().execute(), []);
  });

  it("lets an admin allow and ban users, and the owner promote and demote; each lands in the events", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.stranger, "/start"); // the bot learns @stan
    assert.equal(
      (await w.say(w.admin, "/allow @stan")).text,
      `User @stan (${w.stranger.id}) may use the bot now.`,
    );
    assert.match((await w.say(w.stranger, "/start")).text, /Hello, Stan!/);

    assert.equal(
      (await w.say(w.admin, `/promote ${w.user.id}`)).text,
      "/promote is not available to you. /help lists yours.",
    );
    assert.equal((await w.say(w.owner, `/promote ${w.user.id}`)).text, `User ${w.user.id} is an admin now.`);
    assert.equal(
      (await w.say(w.admin, `/ban ${w.user.id}`)).text,
      "Only the owner can change an admin's role.",
    );
    assert.equal((await w.say(w.owner, `/demote ${w.user.id}`)).text, `User ${w.user.id} is a user again.`);
    assert.equal(
      (await w.say(w.admin, `/ban ${w.owner.id}`)).text,
      "The owner's role comes from the configuration; it cannot be changed here.",
    );
    assert.equal(
      (await w.say(w.owner, `/demote ${w.banned.id}`)).text,
      `User ${w.banned.id} is already banned.`,
    );
    assert.equal((await getUser(w.database.db, w.banned.id))?.role, "banned", "/demote is no way to unban");
    assert.equal((await w.say(w.admin, "/ban")).text, "Write /ban 123456789 or /ban @username.");
    assert.equal(
      (await w.say(w.admin, "/ban @nobody_known")).text,
      "I do not know @nobody_known. Use their numeric id (they get it from /start).",
    );

    await w.say(w.stranger, "https://example.com/a.mp4");
    assert.equal(
      (await w.say(w.admin, `/ban ${w.stranger.id}`)).text,
      `User @stan (${w.stranger.id}) is banned; 1 of their jobs were cancelled.`,
    );
    w.send(w.stranger, "/start");
    await w.barrier();
    const last = w.botMessages(w.chat(w.stranger)).at(-1);
    assert.match(last?.text ?? "", /Queued 1/, "nothing after the ban");
    const job = await w.database.db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    assert.equal(job.status, "cancelled");

    const events = (await listEvents(w.database.db, { category: "admin" })).reverse();
    assert.deepEqual(
      events.map((e) => [e.action, e.actor_id, e.subject]),
      [
        ["user.allowed", w.admin.id, String(w.stranger.id)],
        ["user.promoted", w.owner.id, String(w.user.id)],
        ["user.demoted", w.owner.id, String(w.user.id)],
        ["user.banned", w.admin.id, String(w.stranger.id)],
      ],
    );
  });

  it("sets the command menu per language and per role scope", async (t) => {
    const w = await startBotWorld(t);
    await w.say(w.admin, "/start"); // the bot learns how to reach the admin
    await w.bot.setMenus();
    const sets = w.srv.server.world.users.get(w.botUser.id)!.commandSets;
    const names = (key: string) => sets.get(key)?.map((c) => c.command);
    const base = ["start", "help", "queue", "cancel", "batch", "merge"];
    const mine = ["settings", "history", "usage", "forgetme"];
    const staffMore = ["settings", "history", "usage", "stats", "forgetme"];
    const adminMore = [
      "users",
      "adduser",
      "removeuser",
      "unban",
      "channels",
      "addchannel",
      "removechannel",
      "logchannels",
      "health",
    ];
    const users = [...base, ...mine];
    const admins = [...base, "allow", "ban", ...adminMore, ...staffMore];
    assert.deepEqual(names(commandSetKey("default", "")), users);
    assert.deepEqual(names(commandSetKey("default", "ru")), users);
    assert.equal(sets.get(commandSetKey("default", "ru"))?.[0]?.description, "приветствие и ваш id");
    assert.deepEqual(names(commandSetKey(`peer:${w.admin.id}`, "")), admins);
    assert.deepEqual(names(commandSetKey(`peer:${w.admin.id}`, "ru")), admins);
    // The owner never wrote to this bot, so there is no way to reach them yet: skipped, not a failure, and set
    // once they send /start.
    assert.equal(sets.get(commandSetKey(`peer:${w.owner.id}`, "")), undefined);
    await w.say(w.owner, "/start");
    assert.deepEqual(names(commandSetKey(`peer:${w.owner.id}`, "")), [
      ...base,
      "allow",
      "ban",
      "promote",
      "demote",
      ...adminMore.slice(0, -1),
      "addlog",
      "removelog",
      "health",
      "backup",
      "limits",
      "features",
      ...staffMore,
    ]);
    await w.say(w.user, "/start");
    await w.say(w.owner, `/promote ${w.user.id}`);
    assert.deepEqual(names(commandSetKey(`peer:${w.user.id}`, "")), admins);
  });
});

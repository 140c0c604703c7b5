/**
 * The admin commands on people (/users, /adduser, /removeuser, /ban, /unban) for each role, through the local
 * Telegram server: what each person sees, what they are refused, and what lands in the events table.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listEvents } from "../../src/db/events.js";
import { getUser, setRole } from "../../src/db/users.js";
import { startBotWorld, WAIT_MS } from "./support/bot-world.js";

const ADMIN_COMMANDS = [
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
const OWNER_COMMANDS = ["addlog", "removelog", "backup", "limits", "features"];

describe("admin commands", () => {
  it("are refused to users, owner commands to admins, strangers get the access notice and the banned nothing", async (t) => {
    const w = await startBotWorld(t);
    for (const name of [...ADMIN_COMMANDS, ...OWNER_COMMANDS]) {
      assert.equal(
        (await w.say(w.user, `/${name} ${w.stranger.id}`)).text,
        `/${name} is not available to you. /help lists yours.`,
      );
    }
    for (const name of OWNER_COMMANDS) {
      assert.equal(
        (await w.say(w.admin, `/${name}`)).text,
        `/${name} is not available to you. /help lists yours.`,
      );
    }
    // A stranger is told once how to get in (the notice is once a minute); the banned hear nothing at all.
    const all = [
      ...ADMIN_COMMANDS,
      ...OWNER_COMMANDS,
      "log_channels",
      "add_log_channel",
      "remove_log_channel",
    ];
    const first = w.send(w.stranger, `/${all[0]} ${w.stranger.id}`);
    for (const name of all.slice(1)) w.send(w.stranger, `/${name} ${w.stranger.id} admin`);
    const sent = w.send(w.banned, `/${all[0]}`);
    for (const name of all.slice(1)) w.send(w.banned, `/${name} ${w.banned.id}`);
    await w.barrier();
    const toStranger = w.botMessages(w.chat(w.stranger), first.id - 1);
    assert.equal(toStranger.length, 1);
    assert.match(toStranger[0]?.text ?? "", /^You do not have access to this bot yet\./);
    assert.deepEqual(w.botMessages(w.chat(w.banned), sent.id - 1), [], "no answer to a banned user");
    assert.equal((await getUser(w.database.db, w.banned.id))?.role, "banned");
    assert.equal(await getUser(w.database.db, w.stranger.id), undefined);
    assert.deepEqual(await w.database.db.selectFrom("bot_settings").selectAll().execute(), []);
    assert.deepEqual(await w.database.db.selectFrom("chats").selectAll().execute(), []);
    assert.deepEqual(
      w.srv.server.messages(w.chat(w.owner)).filter((m) => m.media !== null),
      [],
      "no backup went to the owner",
    );
    assert.deepEqual(await listEvents(w.database.db, { category: "admin" }), []);
  });

  it("/users lists the people with roles, hostile names literally, and pages with buttons bound to the admin", async (t) => {
    const w = await startBotWorld(t);
    const hostile = w.srv.server.createUser({ firstName: "<b>Eve</b> & <a href='x'>", username: "eve_x" });
    await setRole(w.database.db, hostile.id, "user", w.owner.id);
    await w.say({ id: hostile.id, name: "Eve" }, "/start"); // the bot records the name Telegram gives
    const first = await w.say(w.admin, "/users");
    assert.match(first.text, /^Users · 6 · page 1 of 1\n/);
    assert.ok(first.text.includes(`<b>Eve</b> & <a href='x'> (@eve_x) · ${hostile.id} · user`), first.text);
    assert.ok(first.text.includes(`· ${w.owner.id} · owner`), first.text);
    assert.ok(first.text.includes(`· ${w.banned.id} · banned`), first.text);
    assert.equal(first.buttons, null, "one page: no buttons");

    for (let i = 0; i < 20; i++) await setRole(w.database.db, 9_000_000 + i, "user", w.owner.id);
    const paged = await w.say(w.admin, "/users");
    assert.match(paged.text, /^Users · 26 · page 1 of 2\n/);
    assert.equal(paged.text.split("\n").length, 21, "20 people a page");
    assert.deepEqual(
      paged.buttons?.flat().map((b) => b.data),
      [`a:u:1:${w.admin.id}`],
    );
    const answer = await w.srv.server.pressButton(
      w.admin.id,
      w.chat(w.admin),
      paged.id,
      { text: "Next ▶" },
      WAIT_MS,
    );
    assert.equal(answer.answered, true);
    const edited = await w.srv.server.waitForMessage(
      w.chat(w.admin),
      (m) => m.id === paged.id && m.text.startsWith("Users · 26 · page 2 of 2"),
      WAIT_MS,
    );
    assert.equal(edited.text.split("\n").length, 7);
    assert.deepEqual(
      edited.buttons?.flat().map((b) => b.data),
      [`a:u:0:${w.admin.id}`],
    );

    // Someone else's page button, forged shapes and a user forging one of their own act on nothing.
    const press = (from: number, data: string) =>
      w.srv.server.pressButton(from, w.chat(w.admin), paged.id, { data, forged: true }, WAIT_MS);
    assert.equal(
      (await press(w.admin.id, `a:u:0:${w.owner.id}`)).message,
      "This button belongs to someone else.",
    );
    for (const data of [
      "a:u:-1:1",
      `a:u:99999999:${w.admin.id}`,
      `a:x:0:${w.admin.id}`,
      `a:u:0:${w.admin.id}:1`,
    ]) {
      assert.equal((await press(w.admin.id, data)).message, "This button is no longer valid.", data);
    }
    const mine = await w.say(w.user, "/start");
    const forged = await w.srv.server.pressButton(
      w.user.id,
      w.chat(w.user),
      mine.id,
      { data: `a:u:1:${w.user.id}`, forged: true },
      WAIT_MS,
    );
    assert.equal(forged.message, "This button is for the owner or an admin.");
    await w.barrier();
    assert.deepEqual(w.botMessages(w.chat(w.user), mine.id), [], "a user's forged press shows them no list");
    assert.ok(
      w.srv.server
        .messages(w.chat(w.admin))
        .find((m) => m.id === paged.id)
        ?.text.startsWith("Users · 26 · page 2"),
      "the refused presses left the page as it was",
    );
  });

  it("/adduser lets a stranger in as a user; admin only when the owner asks; every change is an admin event", async (t) => {
    const w = await startBotWorld(t);
    assert.equal(
      (await w.say(w.admin, "/adduser")).text,
      "Write /adduser 123456789 or /adduser @username; add admin to make them an admin (owner only).",
    );
    assert.equal(
      (await w.say(w.admin, `/adduser ${w.stranger.id} admin`)).text,
      "Only the owner can add admins. Leave out “admin” to add them as a user.",
    );
    assert.equal(await getUser(w.database.db, w.stranger.id), undefined, "nothing written on a refusal");
    assert.equal(
      (await w.say(w.admin, `/adduser ${w.stranger.id}`)).text,
      `User ${w.stranger.id} may use the bot now.`,
    );
    assert.match((await w.say(w.stranger, "/start")).text, /role: user/);
    assert.equal(
      (await w.say(w.admin, "/adduser @stan")).text,
      `User @stan (${w.stranger.id}) is already user.`,
    );
    assert.equal(
      (await w.say(w.owner, "/adduser @stan admin")).text,
      `User @stan (${w.stranger.id}) is an admin now.`,
    );
    assert.equal((await getUser(w.database.db, w.stranger.id))?.role, "admin");
    assert.equal(
      (await w.say(w.admin, `/adduser ${w.owner.id}`)).text,
      "The owner's role comes from the configuration; it cannot be changed here.",
    );
    assert.equal(
      (await w.say(w.admin, `/adduser ${w.stranger.id}`)).text,
      "Only the owner can change an admin's role.",
    );
    assert.equal(
      (await w.say(w.admin, "/adduser @nobody_here")).text,
      "I do not know @nobody_here. Use their numeric id (they get it from /start).",
    );
    const events = (await listEvents(w.database.db, { category: "admin" })).map((e) => [
      e.action,
      e.actor_id,
      e.subject,
    ]);
    assert.deepEqual(events, [
      ["user.promoted", w.owner.id, String(w.stranger.id)],
      ["user.allowed", w.admin.id, String(w.stranger.id)],
    ]);
  });

  it("/removeuser takes access away and cancels the user's unfinished jobs; the owner and admins are protected", async (t) => {
    const w = await startBotWorld(t);
    assert.match(
      (await w.say(w.user, "https://example.com/a.mp4\nhttps://example.com/b.mp4")).text,
      /^Queued 2/,
    );
    assert.equal(
      (await w.say(w.admin, "/removeuser @ursula")).text,
      `User @ursula (${w.user.id}) has no access now; 2 of their jobs were cancelled.`,
    );
    const jobs = await w.database.db
      .selectFrom("jobs")
      .select("status")
      .where("user_id", "=", w.user.id)
      .execute();
    assert.deepEqual(jobs, [{ status: "cancelled" }, { status: "cancelled" }]);
    assert.match(
      (await w.say(w.user, "https://example.com/c.mp4")).text,
      /^You do not have access to this bot yet\./,
    );
    assert.equal(
      await w.database.db
        .selectFrom("jobs")
        .select("id")
        .where("source_url", "like", "%c.mp4")
        .executeTakeFirst(),
      undefined,
    );
    assert.equal(
      (await w.say(w.admin, `/removeuser ${w.user.id}`)).text,
      `User @ursula (${w.user.id}) has no access to take away.`,
    );
    const list = await w.say(w.admin, "/users");
    assert.ok(!list.text.includes(String(w.user.id)), "a removed person is not listed");
    assert.equal(
      (await w.say(w.admin, `/removeuser ${w.banned.id}`)).text,
      `User ${w.banned.id} has no access to take away.`,
    );
    assert.equal((await getUser(w.database.db, w.banned.id))?.role, "banned", "a banned person stays banned");

    assert.equal(
      (await w.say(w.admin, `/removeuser ${w.owner.id}`)).text,
      "The owner's role comes from the configuration; it cannot be changed here.",
    );
    assert.equal(
      (await w.say(w.admin, `/removeuser ${w.admin.id}`)).text,
      "You cannot change your own role.",
    );
    await setRole(w.database.db, w.stranger.id, "admin", w.owner.id);
    assert.equal(
      (await w.say(w.admin, `/removeuser ${w.stranger.id}`)).text,
      "Only the owner can change an admin's role.",
    );
    assert.match(
      (await w.say(w.owner, `/removeuser ${w.stranger.id}`)).text,
      /has no access now; 0 of their jobs/,
    );

    // Added again, the person is back with their history.
    assert.equal(
      (await w.say(w.admin, `/adduser ${w.user.id}`)).text,
      `User @ursula (${w.user.id}) may use the bot now.`,
    );
    assert.match((await w.say(w.user, "/start")).text, /role: user/);
    const actions = (await listEvents(w.database.db, { category: "admin" })).map((e) => e.action).reverse();
    assert.deepEqual(actions, ["user.removed", "user.removed", "user.allowed"]);
    const removed = (await listEvents(w.database.db, { action: "user.removed" })).at(-1);
    assert.deepEqual(JSON.parse(removed?.data ?? "{}"), { from: "user", cancelled: 2 });
  });

  it("/ban and /unban: an unbanned user is let in again; /unban of someone not banned changes nothing", async (t) => {
    const w = await startBotWorld(t);
    assert.equal((await w.say(w.admin, `/unban ${w.user.id}`)).text, `${w.user.id} is not banned.`);
    assert.equal((await w.say(w.admin, "/unban")).text, "Write /unban 123456789 or /unban @username.");
    assert.match(
      (await w.say(w.admin, `/ban ${w.user.id}`)).text,
      /is banned; 0 of their jobs were cancelled/,
    );
    const quiet = w.send(w.user, "/start");
    await w.barrier();
    assert.deepEqual(w.botMessages(w.chat(w.user), quiet.id), []);
    assert.equal(
      (await w.say(w.admin, `/unban @ursula`)).text,
      `User @ursula (${w.user.id}) may use the bot now.`,
    );
    assert.match((await w.say(w.user, "/start")).text, /role: user/);
    // /allow and /promote keep working next to the new commands.
    assert.match((await w.say(w.owner, `/promote ${w.user.id}`)).text, /is an admin now/);
    assert.match((await w.say(w.owner, `/demote ${w.user.id}`)).text, /is a user again/);
    const actions = (await listEvents(w.database.db, { category: "admin" })).map((e) => e.action).reverse();
    assert.deepEqual(actions, ["user.banned", "user.unbanned", "user.promoted", "user.demoted"]);
  });
});

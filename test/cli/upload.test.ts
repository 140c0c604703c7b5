/**
 * `medusa upload` as a person runs it: the real CLI in a child process, against the local Telegram server and a
 * local web site in this process. It runs the bot's own pipeline, so the files arrive byte for byte, the log channel
 * gets its copy, and the database says what happened.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { enqueueJobs } from "../../src/db/job-queue.js";
import { getJob, listUnfinished } from "../../src/db/jobs.js";
import { savePeers } from "../../src/db/peers.js";
import { touchUser } from "../../src/db/users.js";
import { makeClip, makeRandomFile, serveDirectory } from "../support/media-fixtures.js";
import { startTelegramServer } from "../support/telegram-server/index.js";
import { tempDir } from "../support/temp-dir.js";
import { API_HASH, API_ID } from "../telegram-server/helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Bounds on another process's work; only a wedged run reaches them. */
const EXIT_TIMEOUT_MS = 90_000;

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

async function uploadWorld(t: TestContext, options: { siteBytesPerSecond?: number } = {}) {
  const dir = tempDir(t, "medusa-upload-");
  const srv = await startTelegramServer({ control: false });
  t.after(() => srv.close());
  const keyFile = path.join(dir, "server-key.pem");
  await writeFile(keyFile, srv.publicKeyPem);
  const server = srv.server;
  const bot = server.createBot({ username: "medusa_bot" });
  const alice = server.createUser({ username: "alice", firstName: "Alice" });
  const bob = server.createUser({ username: "bob", firstName: "Bob" });
  const uploads = server.createChat({
    kind: "channel",
    title: "Uploads",
    username: "medusa_uploads",
    creatorId: alice.id,
    admins: [bot.id],
  });
  const hidden = server.createChat({
    kind: "channel",
    title: "Hidden",
    creatorId: alice.id,
    admins: [bot.id],
  });
  const logChannel = server.createChat({
    kind: "channel",
    title: "Log",
    creatorId: alice.id,
    admins: [bot.id],
  });
  const elsewhere = server.createChat({
    kind: "channel",
    title: "Elsewhere",
    username: "elsewhere",
    creatorId: bob.id,
  });
  const site = path.join(dir, "site");
  await mkdir(site);
  const web = await serveDirectory(
    site,
    options.siteBytesPerSecond ? { bytesPerSecond: options.siteBytesPerSecond } : {},
  );
  t.after(() => web.close());
  const dataDir = path.join(dir, "data");
  // The bot met Alice and was added to the private channels before: their access hashes are known. Public
  // channels are found by @username through the gateway.
  const database = await openAndMigrate(path.join(dataDir, "medusa.db"));
  t.after(() => database.close());
  await savePeers(database.db, [
    { id: alice.id, kind: "user", access_hash: alice.accessHash, username: "alice", title: "Alice" },
    ...[hidden, logChannel].map((c) => ({
      id: Number(c.peerId),
      kind: "channel" as const,
      access_hash: c.accessHash,
      username: null,
      title: c.title,
    })),
  ]);
  await touchUser(database.db, { id: alice.id, firstName: "Alice" });
  const env = {
    PATH: process.env.PATH ?? "",
    TELEGRAM_API_ID: String(API_ID),
    TELEGRAM_API_HASH: API_HASH,
    BOT_TOKEN: bot.botToken ?? "",
    OWNER_ID: String(alice.id),
    TELEGRAM_SERVER: `127.0.0.1:${srv.mtprotoPort}`,
    TELEGRAM_SERVER_KEY_FILE: keyFile,
    TELEGRAM_DC_ID: String(srv.dcId),
    DATA_DIR: dataDir,
    ALLOW_PRIVATE_NETWORKS: "true",
    LOG_CHANNELS: logChannel.peerId,
  };

  /** Runs `medusa upload …` to its end; `whileRunning` may act on the child (send it a signal). */
  const medusa = (args: string[], whileRunning?: (child: ReturnType<typeof spawn>) => Promise<void>) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "src/cli.ts"), "upload", ...args],
      {
        cwd: ROOT, // where --import finds tsx; every path Medusa uses is absolute
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`medusa upload did not exit in time\n${stderr}`)),
        EXIT_TIMEOUT_MS,
      );
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? String(signal));
      });
    });
    return (async () => {
      await whileRunning?.(child);
      const code = await exited;
      return { code, stdout, stderr };
    })();
  };
  const media = (chat: { chat: number } | { user: number; peer: number }) =>
    server.messages(chat).filter((m) => m.media);
  return {
    srv,
    server,
    bot,
    alice,
    bob,
    uploads,
    hidden,
    logChannel,
    elsewhere,
    site,
    web,
    dataDir,
    database,
    medusa,
    media,
  };
}

describe("medusa upload", () => {
  it("sends a link to a channel where the bot is admin, prints the message link, and copies it to the log channel", async (t) => {
    const w = await uploadWorld(t);
    const file = await makeRandomFile(path.join(w.site, "data.bin"), 1_500_000);
    // Another job waits in the queue: the terminal runs its own job and leaves that one to the bot.
    const [waiting] = await w.database.db.transaction().execute((trx) =>
      enqueueJobs(
        trx,
        [
          {
            user_id: w.alice.id,
            request_chat_id: w.alice.id,
            destination_chat_id: w.alice.id,
            source_url: `${w.web.origin}/other.bin`,
          },
        ],
        { perUserQueued: 10, totalQueued: 10 },
      ),
    );

    const run = await w.medusa([`${w.web.origin}/data.bin`, "--to", "@medusa_uploads"]);

    assert.equal(run.code, 0, run.stderr);
    const posted = w.media({ chat: w.uploads.id });
    assert.equal(posted.length, 1);
    assert.equal(
      run.stdout,
      `https://t.me/medusa_uploads/${posted[0]?.id}\n`,
      "stdout is the message link, alone",
    );
    assert.equal(posted[0]?.media?.sha256, await sha256(file), "byte-identical");
    assert.equal(posted[0]?.media?.name, "data.bin");
    const logged = w.media({ chat: w.logChannel.id });
    assert.equal(logged.length, 1, "the log channel got a copy");
    assert.equal(logged[0]?.media?.sha256, posted[0]?.media?.sha256);
    assert.match(
      run.stderr,
      /downloading http:\/\/127\.0\.0\.1:\d+\/data\.bin\n/,
      "one line per stage off a TTY",
    );
    assert.match(run.stderr, /uploading data\.bin \(1\.4 MiB\)\n/);
    assert.doesNotMatch(run.stderr, /\r/, "no bar when stderr is not a terminal");
    assert.deepEqual(
      w.web.requests.filter((r) => r === "/other.bin"),
      [],
      "the other job was not fetched",
    );
    assert.equal((await getJob(w.database.db, waiting?.id ?? 0))?.status, "queued");
    assert.deepEqual(await readdir(path.join(w.dataDir, "work")), [], "no work files left");
  });

  it("sends a local file to the owner without touching the original, though the pipeline remuxes its copy", async (t) => {
    const w = await uploadWorld(t);
    const home = path.join(w.dataDir, "..", "home");
    await mkdir(home);
    // ffmpeg's mp4 writes the index last: the pipeline moves it to the front (faststart) on its own name for it.
    const clip = await makeClip(path.join(home, "holiday clip.mp4"), { seconds: 2 });
    const before = { sha256: await sha256(clip), stat: await stat(clip) };

    const run = await w.medusa([clip, "--to", "me", "--name", "Holiday.mp4"]);

    assert.equal(run.code, 0, run.stderr);
    const toAlice = w.media({ user: w.alice.id, peer: w.bot.id });
    assert.equal(toAlice.length, 1);
    assert.equal(run.stdout, `chat ${w.alice.id} message ${toAlice[0]?.id}\n`);
    const sent = toAlice[0]?.media;
    assert.equal(sent?.name, "Holiday.mp4");
    assert.deepEqual(
      sent?.attributes.find((a) => a.type === "video"),
      { type: "video", duration: 2, w: 160, h: 120, supportsStreaming: true },
      "sent as a streamable video",
    );
    assert.notEqual(sent?.sha256, before.sha256, "the copy was remuxed");
    assert.equal(await sha256(clip), before.sha256, "the original's bytes are untouched");
    const after = await stat(clip);
    assert.equal(after.mtimeMs, before.stat.mtimeMs);
    assert.equal(after.nlink, 1, "no link left behind");
    assert.match(run.stderr, /importing .*holiday clip\.mp4\n/);
    const logged = w.media({ chat: w.logChannel.id });
    assert.equal(logged.length, 1, "the log channel got a copy");
    assert.ok(!logged[0]?.text.includes(home), "the log card does not show the local path");
    assert.deepEqual(await readdir(path.join(w.dataDir, "work")), [], "no work files left");
  });

  it("links to a message in a private channel named by its id, sent as a document under the given name", async (t) => {
    const w = await uploadWorld(t);
    const clip = await makeClip(path.join(w.site, "clip.mp4"), { seconds: 1, faststart: true });

    const run = await w.medusa([
      `${w.web.origin}/clip.mp4`,
      "--to",
      w.hidden.peerId,
      "--as-document",
      "--name",
      "Report.mp4",
    ]);

    assert.equal(run.code, 0, run.stderr);
    const posted = w.media({ chat: w.hidden.id });
    assert.equal(posted.length, 1);
    assert.equal(run.stdout, `https://t.me/c/${w.hidden.id}/${posted[0]?.id}\n`);
    assert.equal(posted[0]?.media?.name, "Report.mp4");
    assert.equal(posted[0]?.media?.sha256, await sha256(clip));
    assert.equal(
      posted[0]?.media?.attributes.some((a) => a.type === "video"),
      false,
      "a plain document, not a video",
    );
  });

  it("refuses a channel where the bot is not a member before fetching anything", async (t) => {
    const w = await uploadWorld(t);
    await makeRandomFile(path.join(w.site, "data.bin"), 100_000);

    const run = await w.medusa([`${w.web.origin}/data.bin`, "--to", "t.me/elsewhere"]);

    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^medusa upload: the bot is not a member of @elsewhere\. Add it as an admin/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    assert.equal(run.stdout, "");
    assert.deepEqual(w.web.requests, [], "the site saw no request");
    assert.deepEqual(await listUnfinished(w.database.db), [], "no job was made");
    assert.equal(w.media({ chat: w.elsewhere.id }).length, 0);
  });

  it("exits 2 with the usage for bad arguments", async (t) => {
    const w = await uploadWorld(t);
    const missing = path.join(w.dataDir, "nope.mp4");
    for (const [args, reason] of [
      [[`${w.web.origin}/data.bin`], /--to is needed/],
      [
        [`${w.web.origin}/data.bin`, "--to", "@medusa_uploads", "--quality", "4k"],
        /--quality must be one of/,
      ],
      [["ftp://example.com/file.bin", "--to", "me"], /Only http and https links/],
      [[missing, "--to", "me"], /no such file: .*nope\.mp4/],
      [[`${w.web.origin}/data.bin`, "--to", "not a chat"], /--to not a chat is not @channel/],
    ] as const) {
      const run = await w.medusa([...args]);
      assert.equal(run.code, 2, `${args.join(" ")}\n${run.stderr}`);
      assert.match(run.stderr, reason);
      assert.match(run.stderr, /Usage: medusa upload <file\|url> --to/);
      assert.equal(run.stdout, "");
    }
    assert.deepEqual(w.web.requests, []);
  });

  it("exits 1 with the reason when the link is dead", async (t) => {
    const w = await uploadWorld(t);

    const run = await w.medusa([`${w.web.origin}/missing.bin`, "--to", "@medusa_uploads"]);

    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^medusa upload: The server answered 404 Not Found\.$/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    assert.equal(run.stdout, "");
    assert.equal(w.media({ chat: w.uploads.id }).length, 0);
  });

  it("cancels the job on Ctrl-C: exit 130, the job cancelled, its files removed, nothing sent", async (t) => {
    const w = await uploadWorld(t, { siteBytesPerSecond: 500_000 });
    await makeRandomFile(path.join(w.site, "big.bin"), 8_000_000);

    const run = await w.medusa([`${w.web.origin}/big.bin`, "--to", "@medusa_uploads"], async (child) => {
      // Interrupt once bytes are on disk.
      const deadline = Date.now() + EXIT_TIMEOUT_MS;
      for (;;) {
        const job = await w.database.db.selectFrom("jobs").selectAll().executeTakeFirst();
        if (job?.status === "downloading" && job.bytes_done > 0) break;
        if (Date.now() > deadline) throw new Error("the download never started");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill("SIGINT");
    });

    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /cancelled\n$/);
    const [job] = await w.database.db.selectFrom("jobs").selectAll().execute();
    assert.equal(job?.status, "cancelled");
    assert.equal(job?.locked_by, null, "no lease left");
    assert.deepEqual(await readdir(path.join(w.dataDir, "work")), [], "the partial download is gone");
    assert.equal(w.media({ chat: w.uploads.id }).length, 0);
  });
});

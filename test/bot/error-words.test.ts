/**
 * Errors reach a chat in the user's language: a Russian user gets Russian replies for a bad link, a limit hit, a
 * bad batch line and the reason a job failed (the code stays in the jobs table; the log stays English).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startBotWorld } from "./support/bot-world.js";

/** A clock that stands still: every request of a test falls in one rate window, however slow the machine is. */
function frozenClock(): () => number {
  const at = Date.now();
  return () => at;
}

describe("errors in the user's language", () => {
  it("tells a Russian user in Russian that a link is bad, and an English user in English", async (t) => {
    const w = await startBotWorld(t);
    const ru = await w.say(w.russian, "https://[nope]/\nhttps://example.com/ok.mp4");
    assert.match(ru.text, /Не в очереди: https:\/\/\[nope\]\/ — Это не ссылка\./);
    assert.doesNotMatch(ru.text, /not a valid link/);
    const en = await w.say(w.user, "https://[nope]/");
    assert.match(en.text, /Not queued: https:\/\/\[nope\]\/ — That is not a valid link\./);
  });

  it("names the limit a Russian user hit, in Russian", async (t) => {
    const w = await startBotWorld(t, { limits: { ratePerMinute: 2 }, clock: frozenClock() });
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(w.send(w.russian, `https://example.com/${i}.mp4`));
    await w.barrier();
    const replies = w.botMessages(w.chat(w.russian), sent[0]!.id);
    const notice = replies.at(-1)?.text ?? "";
    assert.match(notice, /^Достигнут предел: 2 запросов в минуту\. Он сбросится в \d\d:\d\d:\d\d UTC/);
  });

  it("says why a job failed in the reader's language in /history, from the key and params saved with it", async (t) => {
    const w = await startBotWorld(t);
    const db = w.database.db;
    for (const person of [w.russian, w.user]) {
      // As failJob leaves a job the site answered 404 for (test/bot/owner-watch.test.ts checks the real runner).
      await db
        .insertInto("jobs")
        .values({
          user_id: person.id,
          request_chat_id: person.id,
          destination_chat_id: person.id,
          source_url: "https://example.com/gone.bin",
          status: "failed",
          error_code: "HTTP_404",
          error_message: "The server answered 404 Not Found.",
          error_key: "err.HTTP_GONE",
          error_params: JSON.stringify({ status: "404 Not Found" }),
        })
        .execute();
    }
    const ru = await w.say(w.russian, "/history");
    assert.match(
      ru.text,
      /не удалось: Сервер ответил 404 Not Found\. Проверьте ссылку: возможно, файл удалён\./,
    );
    const en = await w.say(w.user, "/history");
    assert.match(
      en.text,
      /The server answered 404 Not Found\. Check the link; the file may have been removed\./,
    );
  });

  it("lists a bad batch line's reason in Russian", async (t) => {
    const w = await startBotWorld(t);
    const sent = await w.sendDocument(
      w.russian,
      "list.txt",
      "https://example.com/a.mp4\nftp://example.com/b\n",
    );
    const reply = await w.replyAfter(w.chat(w.russian), sent.id);
    assert.match(reply.text, /только ссылки http и https, а не ftp/);
  });
});

/**
 * A start after a crash (no clean-stop mark) tells the owner, in their language, how many unfinished jobs it
 * resumed; a clean stop and start tells nothing. The real `medusa start`, killed at a crash point.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { makeRandomFile } from "../support/media-fixtures.js";
import { medusaChildWorld } from "./support/medusa-child.js";

const READY_TIMEOUT_MS = 120_000;
const CRASH_NOTICE = /запущена снова после остановки без штатного завершения/;

describe("start after a crash", () => {
  it("tells the owner once, with the jobs resumed; a clean restart says nothing", async (t) => {
    const w = await medusaChildWorld(t, {
      files: async (dir) => {
        const files = [`${dir}/a.bin`, `${dir}/b.bin`];
        for (const file of files) await makeRandomFile(file, 200_000);
        return files;
      },
    });
    // Alice owns the bot; her Telegram speaks Russian.
    await w.database.db.updateTable("peers").set({ lang_code: "ru" }).where("id", "=", w.alice.id).execute();
    const chat = { user: w.alice.id, peer: w.bot.id };
    const notices = () => w.srv.server.messages(chat).filter((m) => CRASH_NOTICE.test(m.text));

    const crashing = w.medusa({ MEDUSA_CRASH_AT: "fetch.downloaded" });
    assert.equal(await crashing.exit, "SIGKILL", crashing.stderr());
    assert.equal(notices().length, 0, "the very first start follows no crash");

    const healthy = w.medusa();
    const notice = await w.srv.server.waitForMessage(
      chat,
      (m) => CRASH_NOTICE.test(m.text),
      READY_TIMEOUT_MS,
    );
    assert.match(notice.text, /Незавершённых задач продолжено: 2, из них прерваны на середине шага: [12]/);
    const rows = await w.jobRows();
    assert.ok(rows.length === 2);
    for (const row of await waitSettled(w.jobRows)) assert.equal(row?.status, "done");
    healthy.child.kill("SIGTERM");
    assert.equal(await healthy.exit, "0", healthy.stderr());

    // A clean stop, then a start: nothing to tell.
    const port = await freePort();
    const again = w.medusa({ HTTP_PORT: String(port) });
    await ready(port, again.stderr);
    again.child.kill("SIGTERM");
    assert.equal(await again.exit, "0", again.stderr());
    assert.equal(notices().length, 1, "told once, not after the clean restart");
    const remembered = await w.database.db
      .selectFrom("events")
      .select("subject")
      .where("action", "=", "owner.notice")
      .where("subject", "like", "crash-start:%")
      .execute();
    assert.equal(remembered.length, 1);
  });
});

async function waitSettled<T extends { status: string } | undefined>(rows: () => Promise<T[]>): Promise<T[]> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const now = await rows();
    if (now.every((r) => r?.status === "done" || r?.status === "failed")) return now;
    if (Date.now() > deadline) throw new Error(`jobs unfinished: ${now.map((r) => r?.status).join(",")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Resolves once /readyz answers 200: the SIGTERM handler is in place. */
async function ready(port: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false, // not listening yet
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`medusa never became ready\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

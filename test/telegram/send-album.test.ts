/**
 * Albums through the gateway against the local Telegram server: one grouped_id, captions in order, message ids
 * per random_id; a re-send with any used random_id is refused whole (RANDOM_ID_DUPLICATE) and posts nothing; an
 * album that mixes videos with documents is refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { randomLong } from "../../src/lib/ids.js";
import type { TelegramGateway } from "../../src/telegram/gateway.js";
import type { StoredDocument } from "../../src/telegram/send.js";
import { writePatternFile } from "./support/files.js";
import { startGatewayWorld } from "./support/gateway-world.js";

async function stored(
  gateway: TelegramGateway,
  dir: string,
  chatId: number,
  name: string,
  video = false,
): Promise<StoredDocument> {
  const path = join(dir, name);
  await writePatternFile(path, 200_000 + name.length);
  const file = await gateway.uploadFile(path);
  return gateway.storeDocument(chatId, {
    file,
    fileName: name,
    mimeType: video ? "video/mp4" : "application/octet-stream",
    ...(video ? { video: { durationSeconds: 2, width: 64, height: 48, supportsStreaming: true } } : {}),
    ...(video ? {} : { forceDocument: true }),
  });
}

describe("albums through the gateway", () => {
  it("posts an album once: a re-send with a used random_id posts nothing, and mixed kinds are refused", async (t) => {
    const world = await startGatewayWorld(t, { control: false });
    const gateway = await world.open();
    const chat = { user: world.alice.id, peer: world.bot.id };
    world.srv.server.sendText(world.alice.id, chat, "/start");
    await world.waitForReceived(1);
    const to = world.alice.id;
    const docs = [
      await stored(gateway, world.dir, to, "a.bin"),
      await stored(gateway, world.dir, to, "b.bin"),
      await stored(gateway, world.dir, to, "c.bin"),
    ];
    const ids = docs.map(() => randomLong());
    const items = docs.map((document, i) => ({
      document,
      randomId: ids[i] as bigint,
      caption: `<b>part ${i + 1}/3</b>`,
    }));
    const sent = await gateway.sendAlbum(to, items, { html: true });
    assert.equal(sent.duplicate, false);
    const posted = world.srv.server.messages(chat).filter((m) => m.media);
    assert.deepEqual(
      posted.map((m) => [m.id, m.text, m.media?.name]),
      sent.messageIds.map((id, i) => [id, `part ${i + 1}/3`, ["a.bin", "b.bin", "c.bin"][i]]),
    );
    assert.equal(new Set(posted.map((m) => m.groupedId)).size, 1);
    assert.notEqual(posted[0]?.groupedId, null);

    // Same ids: dropped whole. One used id among new ones: dropped whole too, and the new ids stay unused.
    assert.deepEqual(await gateway.sendAlbum(to, items, { html: true }), {
      messageIds: [undefined, undefined, undefined],
      duplicate: true,
    });
    const fresh = randomLong();
    const mixed = [{ ...items[0], randomId: fresh } as (typeof items)[0], items[1] as (typeof items)[0]];
    assert.equal((await gateway.sendAlbum(to, mixed, {})).duplicate, true);
    assert.equal(world.srv.server.messages(chat).filter((m) => m.media).length, 3, "nothing posted twice");
    const again = await gateway.sendAlbum(to, [{ document: docs[2] as StoredDocument, randomId: fresh }], {});
    assert.equal(again.duplicate, false, "the refused album claimed none of its random_ids");

    const clip = await stored(gateway, world.dir, to, "clip.mp4", true);
    await assert.rejects(
      gateway.sendAlbum(
        to,
        [
          { document: clip, randomId: randomLong() },
          { document: docs[0] as StoredDocument, randomId: randomLong() },
        ],
        {},
      ),
      { code: "MEDIA_INVALID" },
    );
  });
});

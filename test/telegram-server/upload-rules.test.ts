import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Api, type TelegramClient } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { type RunningTelegramServer, startTelegramServer } from "../support/telegram-server/index.js";
import type { UserView } from "../support/telegram-server/server.js";
import { clientFor, closeClient, rawError } from "./helpers.js";

const KIB = 1024;

function fileId() {
  return returnBigInt(randomBytes(8).readBigInt64LE(0));
}

function randomId() {
  return returnBigInt(randomBytes(8).readBigInt64LE(0));
}

async function rpcError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { errorMessage?: string }).errorMessage ?? String(e);
  }
  assert.fail("expected an RPC error");
}

describe("Telegram's upload rules", () => {
  let srv: RunningTelegramServer;
  let user: UserView;
  let premium: UserView;
  let client: TelegramClient;
  let premiumClient: TelegramClient;

  before(async () => {
    srv = await startTelegramServer();
    user = srv.server.createUser({ session: true });
    premium = srv.server.createUser({ premium: true, session: true });
    client = clientFor(srv, user.session!);
    premiumClient = clientFor(srv, premium.session!);
    await Promise.all([client.connect(), premiumClient.connect()]);
  });
  after(async () => {
    await closeClient(client);
    await closeClient(premiumClient);
    await srv.close();
  });

  const big = (
    c: TelegramClient,
    id: ReturnType<typeof fileId>,
    part: number,
    total: number,
    bytes: Buffer,
  ) => c.invoke(new Api.upload.SaveBigFilePart({ fileId: id, filePart: part, fileTotalParts: total, bytes }));
  const small = (c: TelegramClient, id: ReturnType<typeof fileId>, part: number, bytes: Buffer) =>
    c.invoke(new Api.upload.SaveFilePart({ fileId: id, filePart: part, bytes }));
  const sendDoc = (c: TelegramClient, file: Api.TypeInputFile, rid = randomId()) =>
    c.invoke(
      new Api.messages.SendMedia({
        peer: new Api.InputPeerSelf(),
        media: new Api.InputMediaUploadedDocument({
          file,
          mimeType: "application/octet-stream",
          attributes: [],
        }),
        message: "",
        randomId: rid,
      }),
    );

  it("accepts a part whose size is a multiple of 1 KiB dividing 512 KiB", async () => {
    assert.equal(await big(client, fileId(), 0, 3, randomBytes(64 * KIB)), true);
    assert.equal(await small(client, fileId(), 0, randomBytes(512 * KIB)), true);
  });

  it("refuses a non-last part that is not a multiple of 1 KiB with FILE_PART_SIZE_INVALID", async () => {
    assert.equal(await rpcError(big(client, fileId(), 0, 3, randomBytes(1000))), "FILE_PART_SIZE_INVALID");
  });

  it("refuses a non-last part that does not divide 512 KiB with FILE_PART_SIZE_INVALID", async () => {
    assert.equal(await rpcError(big(client, fileId(), 0, 3, randomBytes(3 * KIB))), "FILE_PART_SIZE_INVALID");
  });

  it("refuses parts of unequal sizes (except the last) with FILE_PART_SIZE_CHANGED", async () => {
    const id = fileId();
    await big(client, id, 0, 3, randomBytes(64 * KIB));
    assert.equal(await rpcError(big(client, id, 1, 3, randomBytes(128 * KIB))), "FILE_PART_SIZE_CHANGED");
  });

  it("refuses a last part larger than the others with FILE_PART_SIZE_INVALID", async () => {
    const id = fileId();
    await big(client, id, 0, 2, randomBytes(64 * KIB));
    assert.equal(await rpcError(big(client, id, 1, 2, randomBytes(128 * KIB))), "FILE_PART_SIZE_INVALID");
  });

  it("refuses parts over 512 KiB with FILE_PART_TOO_BIG and empty parts with FILE_PART_EMPTY", async () => {
    assert.equal(await rpcError(big(client, fileId(), 0, 3, randomBytes(513 * KIB))), "FILE_PART_TOO_BIG");
    assert.equal(await rpcError(small(client, fileId(), 0, Buffer.alloc(0))), "FILE_PART_EMPTY");
  });

  it("allows 4000 parts, and 8000 only for Premium (FILE_PARTS_INVALID)", async () => {
    assert.equal(await big(client, fileId(), 0, 4000, randomBytes(KIB)), true);
    assert.equal(await rpcError(big(client, fileId(), 0, 4001, randomBytes(KIB))), "FILE_PARTS_INVALID");
    assert.equal(await big(premiumClient, fileId(), 0, 8000, randomBytes(KIB)), true);
    assert.equal(
      await rpcError(big(premiumClient, fileId(), 0, 8001, randomBytes(KIB))),
      "FILE_PARTS_INVALID",
    );
  });

  it("refuses a changing total and a part index out of range", async () => {
    const id = fileId();
    await big(client, id, 0, 3, randomBytes(KIB));
    assert.equal(await rpcError(big(client, id, 1, 4, randomBytes(KIB))), "FILE_PARTS_INVALID");
    assert.equal(await rpcError(big(client, fileId(), 3, 3, randomBytes(KIB))), "FILE_PART_INVALID");
  });

  it("requires saveBigFilePart beyond 10 MiB", async () => {
    const id = fileId();
    assert.equal(await rpcError(small(client, id, 20, randomBytes(512 * KIB))), "FILE_PART_INVALID");
  });

  it("names the first missing part on send with FILE_PART_X_MISSING", async () => {
    const id = fileId();
    const part = randomBytes(32 * KIB);
    await big(client, id, 0, 4, part);
    await big(client, id, 2, 4, part);
    await big(client, id, 3, 4, randomBytes(KIB));
    const file = new Api.InputFileBig({ id, parts: 4, name: "gap.bin" });
    assert.equal(await rpcError(sendDoc(client, file)), "FILE_PART_1_MISSING");
    await big(client, id, 1, 4, part);
    const updates = (await sendDoc(client, file)) as Api.Updates;
    assert.ok(updates.updates.some((u) => u instanceof Api.UpdateNewMessage));
  });

  it("refuses a send whose part count disagrees with the saved parts (FILE_PARTS_INVALID)", async () => {
    const id = fileId();
    await big(client, id, 0, 2, randomBytes(KIB));
    await big(client, id, 1, 2, randomBytes(KIB));
    assert.equal(
      await rpcError(sendDoc(client, new Api.InputFileBig({ id, parts: 3, name: "x" }))),
      "FILE_PARTS_INVALID",
    );
  });

  it("checks a given md5_checksum (MD5_CHECKSUM_INVALID) and accepts the right one", async () => {
    const data = randomBytes(10 * KIB);
    const id = fileId();
    await small(client, id, 0, data);
    const wrong = new Api.InputFile({ id, parts: 1, name: "a.bin", md5Checksum: "0".repeat(32) });
    assert.equal(await rpcError(sendDoc(client, wrong)), "MD5_CHECKSUM_INVALID");
    const md5 = createHash("md5").update(data).digest("hex");
    const right = new Api.InputFile({ id, parts: 1, name: "a.bin", md5Checksum: md5 });
    await sendDoc(client, right);
    const doc = srv.server.documents().at(-1)!;
    assert.equal(doc.sha256, createHash("sha256").update(data).digest("hex"));
  });

  it("answers a repeated random_id with 500 RANDOM_ID_DUPLICATE", async () => {
    const rid = randomId();
    const req = () =>
      new Api.messages.SendMessage({ peer: new Api.InputPeerSelf(), message: "once", randomId: rid });
    await client.invoke(req());
    // gramjs's invoke() retries 500s; the sender shows the error as Telegram sends it.
    const err = await rawError(client, req());
    assert.equal(err?.errorMessage, "RANDOM_ID_DUPLICATE");
    assert.equal(err?.code, 500);
    assert.equal(
      srv.server.messages({ user: user.id, peer: user.id }).filter((m) => m.text === "once").length,
      1,
    );
  });

  it("assembles parts that arrive out of order over several connections", async () => {
    const dcId = client.session.dcId;
    const senders = await Promise.all(
      [0, 1, 2].map(() => client._connectSender(client._createExportedSender(dcId), dcId)),
    );
    try {
      const partSize = 128 * KIB;
      const data = randomBytes(partSize * 24 + 5000);
      const total = Math.ceil(data.length / partSize);
      const id = fileId();
      // Last part first, then the rest backwards, spread over three connections, all in flight at once.
      await Promise.all(
        [...Array(total).keys()].reverse().map((part, i) =>
          senders[i % 3]!.send(
            new Api.upload.SaveBigFilePart({
              fileId: id,
              filePart: part,
              fileTotalParts: total,
              bytes: data.subarray(part * partSize, (part + 1) * partSize),
            }),
          ),
        ),
      );
      await sendDoc(client, new Api.InputFileBig({ id, parts: total, name: "shuffled.bin" }));
      const doc = srv.server.documents().at(-1)!;
      assert.equal(doc.size, data.length);
      assert.equal(doc.sha256, createHash("sha256").update(data).digest("hex"));
    } finally {
      await Promise.all(senders.map((s) => s.disconnect()));
    }
  });
});

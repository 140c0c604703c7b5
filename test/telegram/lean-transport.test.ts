import assert from "node:assert/strict";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { Api, helpers } from "telegram";
import { AuthKey } from "telegram/crypto/AuthKey.js";
import { MTProtoState } from "telegram/network/MTProtoState.js";
import { installFastCrypto, uninstallFastCrypto } from "../../src/telegram/fast-crypto.js";
import { stockTransport } from "../../src/telegram/gramjs-internals.js";
import {
  type GatheredMessage,
  installLeanTransport,
  uninstallLeanTransport,
} from "../../src/telegram/lean-transport.js";

const {
  encodePacket: stockEncodePacket,
  encryptMessageData: stockEncryptMessageData,
  gzipIfSmaller: stockGzipIfSmaller,
  packerGet: stockPackerGet,
} = stockTransport;

const require = createRequire(import.meta.url);
const VECTORS = 50;

/** Same "random" padding for both implementations, so their outputs can be compared byte for byte. */
function withSeededRandom<T>(seed: number, run: () => Promise<T>): Promise<T> {
  const mutable = helpers as unknown as { generateRandomBytes(count: number): Buffer };
  const original = mutable.generateRandomBytes;
  let counter = seed;
  mutable.generateRandomBytes = (count: number) => {
    const out = Buffer.alloc(count);
    for (let i = 0; i < count; i++) out[i] = (counter++ * 131) & 0xff;
    return out;
  };
  return run().finally(() => {
    mutable.generateRandomBytes = original;
  });
}

async function newState(): Promise<MTProtoState> {
  const authKey = new AuthKey();
  await authKey.setKey(randomBytes(256));
  const state = new MTProtoState(authKey, undefined as never, true);
  state.salt = helpers.readBigIntFromBuffer(randomBytes(8), true, true);
  return state;
}

describe("lean transport", () => {
  it("encrypts messages to the same bytes as stock gramjs", async () => {
    for (const fast of ["stock", "wasm", "native"] as const) {
      if (fast !== "stock") installFastCrypto({ ige: fast });
      try {
        for (let i = 0; i < VECTORS; i++) {
          const state = await newState();
          const data = randomBytes(randomInt(1, 600_000));
          const stock = await withSeededRandom(i, () => stockEncryptMessageData.call(state as never, data));
          installLeanTransport();
          try {
            const lean = await withSeededRandom(i, () => state.encryptMessageData(data));
            assert.ok(lean.equals(stock), `vector ${i} (fast crypto ${fast})`);
          } finally {
            uninstallLeanTransport();
          }
        }
      } finally {
        uninstallFastCrypto();
      }
    }
  });

  it("frames TCP packets like stock gramjs, counter included", () => {
    const { FullPacketCodec } = require("telegram/network/connection/TCPFull");
    const stock = new FullPacketCodec(undefined);
    const lean = new FullPacketCodec(undefined);
    installLeanTransport();
    try {
      for (let i = 0; i < VECTORS; i++) {
        const data = randomBytes(randomInt(0, 100_000));
        const ours = lean.encodePacket(data) as Buffer;
        const theirs = stockEncodePacket.call(stock, data);
        assert.ok(ours.equals(theirs), `packet ${i}`);
      }
    } finally {
      uninstallLeanTransport();
    }
  });

  for (const ige of ["wasm", "native"] as const) {
    it(`encrypts and frames in one buffer to the same bytes as stock gramjs (${ige} IGE)`, async () => {
      installFastCrypto({ ige });
      const { FullPacketCodec } = require("telegram/network/connection/TCPFull");
      const stockCodec = new FullPacketCodec(undefined);
      const leanCodec = new FullPacketCodec(undefined);
      try {
        for (let i = 0; i < VECTORS; i++) {
          const state = await newState();
          const data = randomBytes(randomInt(1, 600_000));
          const stock = await withSeededRandom(i, () => stockEncryptMessageData.call(state as never, data));
          const stockPacket = stockEncodePacket.call(stockCodec, stock);
          installLeanTransport();
          try {
            const lean = await withSeededRandom(i, () => state.encryptMessageData(data));
            const leanPacket = leanCodec.encodePacket(lean) as Buffer;
            assert.ok(leanPacket.equals(stockPacket), `vector ${i}`);
          } finally {
            uninstallLeanTransport();
          }
        }
      } finally {
        uninstallFastCrypto();
      }
    });
  }

  it("skips gramjs's no-op gzip, whose output stock gramjs always discards", async () => {
    for (const length of [0, 512, 513, 600_000]) {
      const data = randomBytes(length);
      for (const contentRelated of [false, true]) {
        const stock = await stockGzipIfSmaller(contentRelated, data);
        assert.equal(
          createHash("sha256").update(stock).digest("hex"),
          createHash("sha256").update(data).digest("hex"),
        );
      }
    }
    const { GZIPPacked } = require("telegram/tl/core/GZIPPacked");
    installLeanTransport();
    try {
      const data = randomBytes(4096);
      assert.equal(await GZIPPacked.gzipIfSmaller(true, data), data);
    } finally {
      uninstallLeanTransport();
    }
  });

  it("packs batches and containers to the same bytes as stock gramjs, as pieces", async () => {
    const { MessagePacker } = require("telegram/extensions/MessagePacker");
    const { RequestState } = require("telegram/network/RequestState");
    const part = (size: number) =>
      new Api.upload.SaveBigFilePart({
        fileId: helpers.returnBigInt(7n),
        filePart: 1,
        fileTotalParts: 9,
        bytes: randomBytes(size),
      });
    const ack = () => new Api.MsgsAck({ msgIds: [helpers.returnBigInt(123n)] });
    const batches = [
      [part(10)],
      [part(600_000)],
      [ack(), part(600_000)],
      [part(100), ack(), part(5000)],
      [part(600_000), part(600_000)],
    ];
    for (const [index, requests] of batches.entries()) {
      const outputs: Buffer[][] = [];
      for (const lean of [false, true]) {
        const state = await newState();
        let next = 1_000_000;
        // Deterministic message ids: both packers must produce the same ones.
        (state as unknown as { _getNewMsgId(): unknown })._getNewMsgId = () => {
          next += 4;
          return helpers.returnBigInt(BigInt(next));
        };
        const packer = new MessagePacker(state, { debug() {}, warn() {} });
        for (const request of requests) packer.append(new RequestState(request));
        const results: Buffer[] = [];
        for (let round = 0; round < requests.length && packer._queue.length > 0; round++) {
          const result = await (lean ? installedGet(packer) : stockPackerGet.call(packer));
          if (!result) break;
          const data = result.data as Buffer | GatheredMessage;
          results.push(Buffer.isBuffer(data) ? data : Buffer.concat([...data.pieces]));
          if (!Buffer.isBuffer(data)) assert.equal(data.length, results.at(-1)?.length);
        }
        outputs.push(results);
      }
      assert.equal(outputs[1]?.length, outputs[0]?.length, `batch ${index}: same number of sends`);
      for (const [i, stock] of (outputs[0] ?? []).entries()) {
        assert.ok(stock.equals(outputs[1]?.[i] as Buffer), `batch ${index} send ${i}`);
      }
    }
  });
});

/** The lean packer's get, called through the prototype as gramjs's send loop does. */
async function installedGet(packer: { get(): Promise<{ data: unknown } | null | undefined> }) {
  installLeanTransport();
  try {
    return await packer.get();
  } finally {
    uninstallLeanTransport();
  }
}

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Api, helpers } from "telegram";
import { UploadError } from "../../src/errors.js";
import { allocPartBuffer, framePart, partRequest } from "../../src/telegram/part-request.js";
import { MAX_PART_COUNT, PART_SIZE, partLength, planUpload } from "../../src/telegram/upload-plan.js";

const TEN_MB = 10 * 1024 * 1024;

describe("upload plan", () => {
  it("rejects an empty file with a clear UploadError", () => {
    assert.throws(
      () => planUpload(0, false),
      (error: unknown) => error instanceof UploadError && error.code === "UPLOAD_EMPTY_FILE",
    );
  });

  it("rejects more than 4000 parts (8000 with Premium) and suggests a split", () => {
    const overLimit = MAX_PART_COUNT * PART_SIZE + 1;
    assert.throws(
      () => planUpload(overLimit, false),
      (error: unknown) =>
        error instanceof UploadError &&
        error.code === "UPLOAD_TOO_MANY_PARTS" &&
        /4001 parts/.test(error.message) &&
        /at most 4000 parts \(2000 MiB\)/.test(error.message) &&
        /Split/.test(error.hint ?? ""),
    );
    assert.equal(planUpload(overLimit, true).partCount, 4001);
    assert.equal(planUpload(MAX_PART_COUNT * PART_SIZE, false).partCount, 4000);
    assert.throws(() => planUpload(8000 * PART_SIZE + 1, true), /at most 8000 parts \(4000 MiB\)/);
  });

  it("uses saveBigFilePart only above 10 MB", () => {
    assert.equal(planUpload(TEN_MB, false).big, false);
    assert.equal(planUpload(TEN_MB + 1, false).big, true);
    assert.equal(planUpload(1, false).partCount, 1);
  });

  it("cuts parts of 512 KiB with a shorter last one", () => {
    const plan = planUpload(PART_SIZE * 2 + 5, false);
    assert.equal(plan.partCount, 3);
    assert.equal(partLength(plan, 0), PART_SIZE);
    assert.equal(partLength(plan, 2), 5);
  });

  it("rejects a size that is not a non-negative integer", () => {
    assert.throws(() => planUpload(-1, false), /Expected the file size to be a non-negative integer, got -1/);
    assert.throws(() => planUpload(1.5, false), /got 1.5/);
  });
});

describe("part request framing", () => {
  const fileId = 0x7123456789abcdefn;
  for (const length of [1, 3, 253, 254, 255, 1000, PART_SIZE - 1, PART_SIZE]) {
    it(`serialises a ${length}-byte part exactly like gramjs, big and small`, () => {
      const data = randomBytes(length);
      for (const big of [true, false]) {
        const target = { fileId, big, partCount: 7 };
        const frame = framePart(allocPartBuffer(), target, 3, length);
        data.copy(frame.data);
        const ours = partRequest(target, 3, frame).getBytes();
        const id = helpers.returnBigInt(fileId);
        const theirs = big
          ? new Api.upload.SaveBigFilePart({
              fileId: id,
              filePart: 3,
              fileTotalParts: 7,
              bytes: data,
            }).getBytes()
          : new Api.upload.SaveFilePart({ fileId: id, filePart: 3, bytes: data }).getBytes();
        assert.ok(ours.equals(theirs), `big=${big}`);
      }
    });
  }
});

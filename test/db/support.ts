import path from "node:path";
import type { TestContext } from "node:test";
import { openAndMigrate } from "../../src/db/database.js";
import { tempDir } from "../support/temp-dir.js";

/** A migrated database in a real file under a temp dir, closed after the test. */
export async function testDatabase(t: Pick<TestContext, "after">) {
  const file = path.join(tempDir(t), "medusa.db");
  const opened = await openAndMigrate(file);
  t.after(() => opened.close());
  return { ...opened, file };
}

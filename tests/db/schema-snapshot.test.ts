import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { SCHEMA_SNAPSHOT_PATH, schemaSnapshot } from "@scripts/local/schema-snapshot.ts";
import { db } from "../support/fixtures.ts";

it("supabase/schema.sql is the schema the migrations build (run `npm run schema` after adding one)", async () => {
  const committed = await readFile(path.join(PROJECT_ROOT, SCHEMA_SNAPSHOT_PATH), "utf8");
  expect(await schemaSnapshot(db())).toBe(committed);
});

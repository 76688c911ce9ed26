// `npm run schema`: builds a throwaway database from supabase/migrations (as the tests and `npm start` do) and
// writes its current schema to supabase/schema.sql (scripts/local/schema-snapshot.ts).
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { prepareDatabase, startEmbeddedPostgres } from "./local/database.ts";
import { PROJECT_ROOT } from "./local/paths.ts";
import { freePort } from "./local/ports.ts";
import { SCHEMA_SNAPSHOT_PATH, schemaSnapshot } from "./local/schema-snapshot.ts";

const dir = await mkdtemp(path.join(tmpdir(), "leadlex-schema-pg-"));
await chmod(dir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, "data"), port: await freePort(), persistent: false });
try {
  await prepareDatabase(pg.url);
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await writeFile(path.join(PROJECT_ROOT, SCHEMA_SNAPSHOT_PATH), await schemaSnapshot(sql));
  } finally {
    await sql.end();
  }
  console.log(`wrote ${SCHEMA_SNAPSHOT_PATH}`);
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}

import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { prepareDatabase, startEmbeddedPostgres } from "@scripts/local/database.ts";
import { freePort } from "@scripts/local/ports.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** The sum of the counts tests/support/conformance.ts wrote, one file per test module instance. */
async function validatedResponses(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += Number(await readFile(path.join(dir, name), "utf8"));
  return total;
}

/**
 * One real Postgres for the whole run: DATABASE_URL when set, otherwise a throwaway embedded cluster in the
 * system temp folder (world-traversable, which the unprivileged `postgres` user needs when tests run as root).
 */
export default async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  let teardown = async () => {};
  if (!url) {
    const dir = await mkdtemp(path.join(tmpdir(), "leadlex-test-pg-"));
    await chmod(dir, 0o755);
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, "data"),
      port: await freePort(),
      persistent: false,
    });
    url = pg.url;
    teardown = async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  await prepareDatabase(url);
  project.provide("databaseUrl", url);
  const conformanceDir = await mkdtemp(path.join(tmpdir(), "leadlex-conformance-"));
  project.provide("conformanceDir", conformanceDir);
  return async () => {
    console.log(`${await validatedResponses(conformanceDir)} gateway responses validated against the OpenAPI document`);
    await rm(conformanceDir, { recursive: true, force: true });
    await teardown();
  };
}

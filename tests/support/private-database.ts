import postgres from "postgres";
import { prepareDatabase } from "@scripts/local/database.ts";
import { databaseUrl } from "./fixtures.ts";

export interface PrivateDatabase {
  url: string;
  /** A direct connection for arranging rows and asserting on them. */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/**
 * A database of its own in the test cluster, bootstrapped and migrated like the shared one. For suites that drain
 * the whole webhook outbox: in the shared database they would deliver, and change, other suites' deliveries.
 */
export async function createPrivateDatabase(): Promise<PrivateDatabase> {
  const name = `leadlex_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  await prepareDatabase(url.toString());
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  return {
    url: url.toString(),
    sql,
    drop: async () => {
      await sql.end();
      await admin.unsafe(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}

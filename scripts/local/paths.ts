import { fileURLToPath } from "node:url";
import path from "node:path";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/**
 * The embedded cluster and the state a running `npm start` shares with the admin CLI: `.data/` (git-ignored), or
 * LEADLEX_DATA_DIR, which lets a test run a whole `npm start` without touching the developer's own.
 */
export const DATA_DIR = path.resolve(process.env.LEADLEX_DATA_DIR ?? path.join(PROJECT_ROOT, ".data"));
export const LOCAL_STATE_FILE = path.join(DATA_DIR, "local.json");

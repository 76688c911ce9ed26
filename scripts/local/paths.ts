import { fileURLToPath } from "node:url";
import path from "node:path";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Git-ignored: the embedded cluster and the state a running `npm start` shares with the admin CLI. */
export const DATA_DIR = path.join(PROJECT_ROOT, ".data");
export const LOCAL_STATE_FILE = path.join(DATA_DIR, "local.json");

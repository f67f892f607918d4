/**
 * What came back from a pod, on the runner: each archive unpacked with every link checked, then
 * put in place, the workspace's working tree mirrored and other folders overlaid.
 */
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, readdir, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import type { Collected, Mount } from './transfer.js';

/**
 * Unpacks what came back from the pod, refusing every link that leads out of its folder.
 * tar-fs checks each link's target as text, so `b -> .` and then `a -> b/..` pass it one by
 * one while `a` leads to the folder's parent; so once everything is unpacked, every link is
 * resolved on disk, as the kernel would, and must stay inside (a dangling one may not climb).
 */
export async function extractChecked(tarFile: string, folder: string, what: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  await pipeline(createReadStream(tarFile), tar.extract(folder));
  await checkLinks(folder, what);
}

/** Refuses every link in `folder` (the pod's `what`) that leads out of it, resolved on disk. */
export async function checkLinks(folder: string, what: string): Promise<void> {
  const root = await realpath(folder);
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!entry.isSymbolicLink()) continue;
      const target = await readlink(full);
      const shown = path.posix.join(what, path.relative(folder, full).split(path.sep).join('/'));
      const resolved = await realpath(full).catch(() => undefined);
      const outside =
        resolved === undefined
          ? path.isAbsolute(target) || target.split('/').includes('..')
          : resolved !== root && !resolved.startsWith(root + path.sep);
      if (outside) {
        throw new Error(
          `${shown} is a link to ${JSON.stringify(target)}, which leads outside ${what}: refused`,
        );
      }
    }
  };
  await walk(folder);
}

/**
 * Makes the tree at `to` equal to the one at `from`, leaving every `.git` alone (on both sides):
 * what is gone is removed, what differs (type, size, mtime or link target) is copied with its
 * times, and the rest is not touched, so tools that look at mtimes see only real changes.
 */
async function mirror(from: string, to: string): Promise<void> {
  const wanted = new Set((await readdir(from)).filter((name) => name !== '.git'));
  for (const name of await readdir(to)) {
    if (!wanted.has(name) && name !== '.git')
      await rm(path.join(to, name), { recursive: true, force: true });
  }
  for (const name of wanted) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    const [a, b] = await Promise.all([lstat(source), lstat(target).catch(() => undefined)]);
    if (a.isDirectory() && b?.isDirectory()) {
      await mirror(source, target);
      continue;
    }
    if (b && a.isFile() && b.isFile() && a.size === b.size && a.mtimeMs === b.mtimeMs) continue;
    if (b && a.isSymbolicLink() && b.isSymbolicLink()) {
      if ((await readlink(source)) === (await readlink(target))) continue;
    }
    if (b) await rm(target, { recursive: true, force: true });
    await cp(source, target, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      filter: (file) => path.basename(file) !== '.git',
    });
  }
}

/**
 * Applies what came back to the runner's folders: the workspace's working tree mirrored, other
 * folders overlaid. No `.git` at any depth is touched in the workspace: the commits come back
 * from the run's git folder (results/container-git.ts), and a `.git` the workload made there
 * never reaches the checkout.
 */
export async function applyCollected(
  collected: Collected,
  mounts: readonly Mount[],
  workspace: string,
): Promise<void> {
  for (const [index, mount] of mounts.entries()) {
    const folder = collected.folders[index];
    if (folder === undefined) continue;
    if (mount.target === workspace) {
      await mirror(folder, mount.host);
      continue;
    }
    await cp(folder, mount.host, {
      recursive: true,
      force: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
    });
  }
}

/** The container's git folder read as plain files, never by git: its branches, HEAD and objects. */
import { copyFile, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readUntrustedTextIfAny, UntrustedFileError } from './untrusted.js';

const HEX = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The loose refs and packed-refs of an untrusted git folder, read as text: refs/heads only. */
export async function readBranches(folder: string, notes: string[]): Promise<Map<string, string>> {
  const what = "the container's git refs";
  const branches = new Map<string, string>();
  const packed = await readUntrustedTextIfAny(path.join(folder, 'packed-refs'), {
    what,
    maxBytes: 64 * 1024 * 1024,
    root: folder,
  }).catch((error: unknown) => {
    notes.push((error as Error).message);
    return undefined;
  });
  for (const line of (packed ?? '').split('\n')) {
    const match = /^([0-9a-f]{40}|[0-9a-f]{64}) refs\/heads\/(.+)$/.exec(line);
    if (match) branches.set(match[2]!, match[1]!);
  }
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full, name);
        continue;
      }
      const text = await readUntrustedTextIfAny(full, { what, maxBytes: 1024, root: folder }).catch(
        (error: unknown) => {
          notes.push((error as Error).message);
          return undefined;
        },
      );
      const value = text?.trim();
      if (value !== undefined && HEX.test(value)) branches.set(name, value);
      else if (value !== undefined) branches.delete(name);
    }
  };
  const heads = path.join(folder, 'refs', 'heads');
  const stats = await lstat(heads).catch(() => undefined);
  if (stats?.isDirectory()) await walk(heads, '');
  return branches;
}

/** The container's HEAD: a branch it names, or a commit. */
export type Head = { readonly branch: string } | { readonly commit: string };

export async function readHead(folder: string): Promise<Head | undefined> {
  const text = await readUntrustedTextIfAny(path.join(folder, 'HEAD'), {
    what: "the container's HEAD",
    maxBytes: 1024,
    root: folder,
  }).catch(() => undefined);
  const value = text?.trim() ?? '';
  if (value.startsWith('ref: refs/heads/'))
    return { branch: value.slice('ref: refs/heads/'.length) };
  if (HEX.test(value)) return { commit: value };
  return undefined;
}

/**
 * Copies the objects of the untrusted folder into `into`: loose objects and packs under git's
 * own names, each a regular file (never a link), up to `limitBytes` in all.
 */
export async function copyObjects(
  from: string,
  into: string,
  limit: { readonly bytes: number; readonly text: string },
): Promise<void> {
  let total = 0;
  const take = async (source: string, target: string): Promise<void> => {
    const stats = await lstat(source);
    if (!stats.isFile()) return;
    total += stats.size;
    if (total > limit.bytes) {
      throw new UntrustedFileError(
        `the commits the container made are over the transfer-limit of ${limit.text}: raise the input 'transfer-limit' to let them through`,
      );
    }
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(source, target);
  };
  const objects = path.join(from, 'objects');
  const top = await lstat(objects).catch(() => undefined);
  if (!top?.isDirectory()) return;
  for (const entry of await readdir(objects, { withFileTypes: true })) {
    if (entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name)) {
      for (const file of await readdir(path.join(objects, entry.name))) {
        if (/^(?:[0-9a-f]{38}|[0-9a-f]{62})$/.test(file)) {
          await take(
            path.join(objects, entry.name, file),
            path.join(into, 'objects', entry.name, file),
          );
        }
      }
    }
  }
  const pack = path.join(objects, 'pack');
  const packStats = await lstat(pack).catch(() => undefined);
  if (!packStats?.isDirectory()) return;
  const names = new Set(await readdir(pack));
  for (const name of names) {
    const match = /^(pack-(?:[0-9a-f]{40}|[0-9a-f]{64}))\.pack$/.exec(name);
    if (!match || !names.has(`${match[1]}.idx`)) continue;
    await take(path.join(pack, name), path.join(into, 'objects', 'pack', name));
    await take(
      path.join(pack, `${match[1]}.idx`),
      path.join(into, 'objects', 'pack', `${match[1]}.idx`),
    );
  }
}

/**
 * The workspace in and the results out, for a pod that shares no disk with the runner, each in
 * one archive over one exec: under a fan-out of many pods the round trips, not the bytes, were
 * the cost (a 16-shard run spent seconds in eleven execs per pod).
 *
 * In: the spec's host folders are packed (tar-fs) into one file on the runner, each folder's
 * entries named by where the pod sees them, and sent to the keeper container's stdin over exec;
 * the keeper unpacks it into the volumes while it hashes it, and marks the workspace ready (its
 * startup probe, which is what lets the workload container start) only when its SHA-256 is the
 * one the runner computed. Never silently partial: a hash mismatch fails the run.
 *
 * Out: after the workload container ended, while the keeper holds the pod (it waits for the
 * `collected` marker before it exits on SIGTERM), every folder but the read-only ones is packed
 * in the pod into one archive, fetched and checked the same way, and unpacked on the runner
 * (unpack.ts), each folder's links checked as its own. The workspace's working tree is mirrored
 * into the runner's checkout; its commits travel in the run's git folder, a mount of its own
 * that results/container-git.ts reads as files, so a later step sees what it would after a
 * Docker run on a bind-mounted workspace.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import { formatBytes } from '../../config/parse.js';
import type { Cluster } from './client.js';
import { execScript } from './exec.js';
import { COLLECTED_MARKER, CONTROL_DIR, KEEPER_CONTAINER, READY_MARKER } from './keeper.js';
import { checkLinks, extractChecked } from './unpack.js';

type Pack = ReturnType<typeof tar.pack>;

export interface Mount {
  readonly host: string;
  readonly target: string;
  /** The workload only reads it: sent in, never brought back. */
  readonly readOnly?: boolean;
}

interface Packed {
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

/** Where a mount's entries sit in the archives of a pod's folders: its target, from the root. */
function inArchive(target: string): string {
  return path.posix.relative('/', target);
}

/**
 * Packs every mount's host folder into one tar file, hashing it on the way: each folder's
 * entries, not the folder itself (the volume's root belongs to root, and a tar that sets its
 * mode or times fails for any other user), named by where the pod sees them.
 */
async function packMounts(mounts: readonly Mount[], file: string): Promise<Packed> {
  const entries = await Promise.all(
    mounts.map(async (mount) => {
      const skip = coveredNames(mount, mounts);
      return (await readdir(mount.host)).filter((name) => !skip.includes(name));
    }),
  );
  // One pack stream, each folder's entries added in turn, finalized after the last.
  const add = (index: number, into?: Pack): Pack => {
    const mount = mounts[index]!;
    const prefix = inArchive(mount.target);
    const last = index === mounts.length - 1;
    return tar.pack(mount.host, {
      entries: entries[index]!,
      map: (header) => ({ ...header, name: path.posix.join(prefix, header.name) }),
      ...(into ? { pack: into } : {}),
      finalize: last,
      ...(last ? {} : { finish: (pack: Pack) => void add(index + 1, pack) }),
    });
  };
  const hash = createHash('sha256');
  let size = 0;
  const source = add(0);
  source.on('data', (data: unknown) => {
    const chunk = data as Buffer;
    hash.update(chunk);
    size += chunk.length;
  });
  await pipeline(source, createWriteStream(file));
  return { file, size, sha256: hash.digest('hex') };
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

async function execChecked(
  cluster: Cluster,
  pod: string,
  what: string,
  script: string,
  options: Parameters<typeof execScript>[4] = {},
): Promise<string> {
  const result = await execScript(cluster, pod, KEEPER_CONTAINER, script, options);
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim() || 'no output';
    throw new Error(`${what} failed in the pod (exit code ${result.exitCode}): ${detail}`);
  }
  return result.stdout;
}

export interface TransferLimit {
  readonly bytes: number;
  readonly text: string;
}

function overLimit(what: string, bytes: number, limit: TransferLimit): Error {
  return new Error(
    `${what} is ${formatBytes(bytes)}, over the transfer-limit of ${limit.text}: raise the input 'transfer-limit' to let it through`,
  );
}

/**
 * The keeper's side of the sending, in one exec: the archive read from stdin is hashed (through
 * a FIFO) while it is unpacked into the volumes, and only when its SHA-256 is the one the runner
 * computed is the workspace marked ready; the hash is printed for the runner to check again.
 */
function receiveScript(packed: Packed): string {
  const fifo = `${CONTROL_DIR}/in.fifo`;
  const sum = `${CONTROL_DIR}/in.sha256`;
  return [
    'set -e',
    `rm -f ${fifo} ${sum}`,
    `mkfifo ${fifo}`,
    `sha256sum < ${fifo} > ${sum} &`,
    // The exec's stdin stays open: head takes the archive's bytes and ends the pipe.
    `head -c ${packed.size} | tee ${fifo} | tar -x -f - -C /`,
    'wait $!',
    `got=$(cut -d' ' -f1 ${sum})`,
    `rm -f ${fifo} ${sum}`,
    `if [ "$got" = ${packed.sha256} ]; then touch ${READY_MARKER}; fi`,
    'echo "$got"',
  ].join('\n');
}

/**
 * Sends every mount's host folder into the pod in one archive over one exec, and marks the
 * keeper ready once it arrived whole.
 */
export async function sendMounts(
  cluster: Cluster,
  pod: string,
  mounts: readonly Mount[],
  scratch: string,
  log: (message: string) => void,
  limit: TransferLimit,
): Promise<void> {
  const dir = await mkdtemp(path.join(scratch, 'send-'));
  try {
    const packed = await packMounts(mounts, path.join(dir, 'in.tar'));
    const folders = mounts.map((mount) => mount.host).join(', ');
    if (packed.size > limit.bytes) throw overLimit(`${folders} packed`, packed.size, limit);
    const stdout = await execChecked(
      cluster,
      pod,
      'Receiving the workspace',
      receiveScript(packed),
      {
        stdinFile: packed.file,
      },
    );
    if (stdout.trim() !== packed.sha256) {
      throw new Error(
        `The workspace arrived damaged in the pod: SHA-256 ${stdout.trim() || '(none)'} instead of ${packed.sha256} (${packed.size} bytes sent)`,
      );
    }
    const where = mounts.map((mount) => `${mount.host} to ${mount.target}`).join(', ');
    log(`Sent ${where} in pod ${pod} (${formatBytes(packed.size)}, checked).`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Collected {
  /** Per mount, the folder its content was unpacked into on the runner (none: read-only). */
  readonly folders: readonly (string | undefined)[];
  readonly dir: string;
}

/**
 * Runs a packing script in the keeper that writes an archive to stdout and then `tar <sha256>`
 * (or `none`, with nothing packed) to stderr, and keeps the archive in `local`, checked against
 * that hash. Past the limit nothing more is written: the pod's count of the size is the
 * workload's to fake, this one is not. Resolves false for `none`.
 */
async function fetchArchive(
  cluster: Cluster,
  pod: string,
  what: string,
  script: string,
  local: string,
  limit: TransferLimit,
): Promise<boolean> {
  const hash = createHash('sha256');
  const out = createWriteStream(local);
  let received = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > limit.bytes) return done();
      hash.update(chunk);
      if (!out.write(chunk)) out.once('drain', () => done());
      else done();
    },
    final(done) {
      out.end(done);
    },
  });
  const written = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  const result = await execScript(cluster, pod, KEEPER_CONTAINER, script, { stdout: sink });
  sink.end();
  await written;
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim() || 'no output';
    throw new Error(`Packing ${what} failed in the pod (exit code ${result.exitCode}): ${detail}`);
  }
  if (/^none$/m.test(result.stderr)) return false;
  const sha256 = /^tar ([0-9a-f]{64})$/m.exec(result.stderr)?.[1];
  if (!sha256) throw new Error(`Packing ${what} in the pod reported no archive`);
  if (received > limit.bytes)
    throw overLimit(`What the pod sends back of ${what}`, received, limit);
  const got = hash.digest('hex');
  if (got !== sha256) {
    throw new Error(`${what} came back damaged: SHA-256 ${got} instead of ${sha256}`);
  }
  return true;
}

/** The top-level names in a mount that other mounts cover (the run's `.git` in the workspace). */
function coveredNames(mount: Mount, mounts: readonly Mount[]): string[] {
  return mounts
    .filter((other) => path.posix.dirname(other.target) === mount.target)
    .map((other) => path.posix.basename(other.target));
}

/** The keeper's script that packs `remote` (from /, a shell word list) into `archive`. */
function sendArchive(archive: string, pack: string[]): string {
  return [
    'set -e',
    ...pack,
    `sum=$(sha256sum ${archive} | cut -d' ' -f1)`,
    `cat ${archive}`,
    `rm -f ${archive}`,
    'echo "tar $sum" >&2',
  ].join('\n');
}

/**
 * Packs every mount the workload could write in the pod, in one archive over one exec, and
 * brings it to the runner, checked; then releases the keeper. A read-only mount does not come
 * back. Each mount's folder on the runner is its target under the collection's folder.
 */
export async function collectMounts(
  cluster: Cluster,
  pod: string,
  mounts: readonly Mount[],
  scratch: string,
  limit: TransferLimit,
): Promise<Collected> {
  const dir = await mkdtemp(path.join(scratch, 'collect-'));
  const writable = mounts.filter((mount) => !mount.readOnly);
  const outTar = `${CONTROL_DIR}/out.tar`;
  // The top-level entries of each folder but the excluded ones, by name (busybox's tar has no
  // --exclude); Prodigy's worktrees are copies of the checkout: what they made is in the commits.
  const listing = writable.flatMap((mount) => {
    const from = quote(inArchive(mount.target));
    const excluded = [...coveredNames(mount, mounts), 'worktrees'].map(quote).join('|');
    return [
      `for f in ${from}/* ${from}/.[!.]* ${from}/..?*; do`,
      '  [ -e "$f" ] || [ -L "$f" ] || continue',
      `  case "\${f##*/}" in ${excluded}) continue ;; esac`,
      '  set -- "$@" "$f"',
      'done',
    ];
  });
  const script = sendArchive(outTar, [
    'cd /',
    'set --',
    ...listing,
    `if [ $# -eq 0 ]; then tar -c -f ${outTar} --no-recursion .; else tar -c -f ${outTar} "$@"; fi`,
  ]);
  const local = path.join(dir, 'results.tar');
  const root = path.join(dir, 'root');
  await fetchArchive(cluster, pod, 'the results', script, local, limit);
  // Unpacked as a whole, then each mount's folder checked as its own: a link may not lead
  // from one folder into another. Nothing outside the mounts' folders is read.
  await mkdir(root);
  await pipeline(createReadStream(local), tar.extract(root));
  await rm(local, { force: true });
  const folders = mounts.map((mount) =>
    mount.readOnly ? undefined : path.join(root, inArchive(mount.target)),
  );
  for (const [index, folder] of folders.entries()) {
    if (folder === undefined) continue;
    await mkdir(folder, { recursive: true });
    await checkLinks(folder, mounts[index]!.target);
  }
  // Everything is here, so the release cannot cost the results: the keeper sees the marker
  // and exits at once, and the container's stop can kill the exec's own shell before it answers
  // (exit code 137) or drop the connection. Not awaited, nor tried again: the keeper may be
  // gone already, and it lets go by itself after KEEPER_HOLD_SECONDS anyway.
  void execScript(cluster, pod, KEEPER_CONTAINER, `touch ${COLLECTED_MARKER}`).catch(
    () => undefined,
  );
  return { folders, dir };
}

/**
 * While the workload runs: a copy of one folder of the pod (`remote`, as the workload sees it),
 * packed by the keeper, fetched and checked as the results are, unpacked into `into` (made
 * anew). Resolves false when the folder is not there.
 */
export async function peekFolder(
  cluster: Cluster,
  pod: string,
  remote: string,
  into: string,
  limit: TransferLimit,
): Promise<boolean> {
  const peekTar = `${CONTROL_DIR}/peek.tar`;
  const script = sendArchive(peekTar, [
    `[ -d ${quote(remote)} ] || { echo none >&2; exit 0; }`,
    `cd ${quote(remote)}`,
    // Claude writes as it goes: GNU tar's 1 ("a file changed as it was read") is a copy still.
    `tar -c -f ${peekTar} . || [ $? -eq 1 ]`,
  ]);
  await rm(into, { recursive: true, force: true });
  const localTar = `${into}.tar`;
  try {
    if (!(await fetchArchive(cluster, pod, remote, script, localTar, limit))) return false;
    await extractChecked(localTar, into, remote);
  } finally {
    await rm(localTar, { force: true });
  }
  return true;
}

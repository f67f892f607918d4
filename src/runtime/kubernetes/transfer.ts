/**
 * The workspace in and the results out, for a pod that shares no disk with the runner.
 *
 * In: each host folder of the run spec is packed (tar-fs) into a file on the runner, sent to the
 * keeper container's stdin over exec, checked there against its SHA-256, and unpacked into the
 * folder's volume; only then does the keeper report ready (its startup probe), which is what
 * lets the workload container start. Never silently partial: a hash mismatch fails the run.
 *
 * Out: after the workload container ended, while the keeper holds the pod (it waits for the
 * `collected` marker before it exits on SIGTERM), each folder is packed in the pod, fetched and
 * checked the same way, but for read-only mounts, and unpacked on the runner (unpack.ts). The
 * workspace's working tree is mirrored into the runner's checkout; its commits travel in the
 * run's git folder, a mount of its own that results/container-git.ts reads as files, so a later
 * step sees what it would after a Docker run on a bind-mounted workspace.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import { formatBytes } from '../../config/parse.js';
import type { Cluster } from './client.js';
import { execScript } from './exec.js';
import { COLLECTED_MARKER, CONTROL_DIR, KEEPER_CONTAINER, READY_MARKER } from './keeper.js';
import { extractChecked } from './unpack.js';

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

/** Packs a folder into a tar file, hashing it on the way. */
async function pack(dir: string, file: string, skip: readonly string[] = []): Promise<Packed> {
  const hash = createHash('sha256');
  let size = 0;
  // The folder's entries, not the folder itself: the volume's root belongs to root, and a tar
  // that sets its mode or times fails for any other user.
  const source = tar.pack(dir, {
    entries: (await readdir(dir)).filter((name) => !skip.includes(name)),
  });
  source.on('data', (chunk: unknown) => {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
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

/** Sends every mount's host folder into the pod and marks the keeper ready. */
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
    for (const mount of mounts) {
      const packed = await pack(mount.host, path.join(dir, 'in.tar'), coveredNames(mount, mounts));
      if (packed.size > limit.bytes) throw overLimit(`${mount.host} packed`, packed.size, limit);
      const inTar = `${CONTROL_DIR}/in.tar`;
      const stdout = await execChecked(
        cluster,
        pod,
        `Receiving ${mount.target}`,
        [
          'set -e',
          `head -c ${packed.size} > ${inTar}`,
          `sha256sum ${inTar} | cut -d' ' -f1`,
          `mkdir -p ${quote(mount.target)}`,
          `tar -x -f ${inTar} -C ${quote(mount.target)}`,
          `rm -f ${inTar}`,
        ].join('\n'),
        { stdinFile: packed.file },
      );
      if (stdout.trim() !== packed.sha256) {
        throw new Error(
          `${mount.target} arrived damaged in the pod: SHA-256 ${stdout.trim() || '(none)'} instead of ${packed.sha256} (${packed.size} bytes sent)`,
        );
      }
      log(
        `Sent ${mount.host} to ${mount.target} in pod ${pod} (${formatBytes(packed.size)}, checked).`,
      );
      await rm(packed.file, { force: true });
    }
    await execChecked(cluster, pod, 'Marking the workspace ready', `touch ${READY_MARKER}`);
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
 * Fetches a file from the pod, checking its SHA-256 against the pod's own. Past the limit,
 * nothing more is written: the pod's count of the size is the workload's to fake, this one is
 * not.
 */
async function fetchFile(
  cluster: Cluster,
  pod: string,
  remote: string,
  local: string,
  sha256: string,
  limit: TransferLimit,
): Promise<void> {
  const hash = createHash('sha256');
  const out = createWriteStream(local);
  const tee = new PassThrough();
  let received = 0;
  tee.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit.bytes) hash.update(chunk);
  });
  tee.pipe(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (received > limit.bytes) return done();
        if (!out.write(chunk)) out.once('drain', () => done());
        else done();
      },
      final(done) {
        out.end(done);
      },
    }),
  );
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  await execChecked(cluster, pod, `Sending back ${remote}`, `cat ${remote}`, { stdout: tee });
  tee.end();
  await done;
  if (received > limit.bytes)
    throw overLimit(`What the pod sends back in ${remote}`, received, limit);
  const got = hash.digest('hex');
  if (got !== sha256) {
    throw new Error(`${remote} came back damaged: SHA-256 ${got} instead of ${sha256}`);
  }
}

/** The top-level names in a mount that other mounts cover (the run's `.git` in the workspace). */
function coveredNames(mount: Mount, mounts: readonly Mount[]): string[] {
  return mounts
    .filter((other) => path.posix.dirname(other.target) === mount.target)
    .map((other) => path.posix.basename(other.target));
}

/**
 * Packs every mount the workload could write in the pod and brings it to the runner, checked;
 * then releases the keeper. A read-only mount does not come back.
 */
export async function collectMounts(
  cluster: Cluster,
  pod: string,
  mounts: readonly Mount[],
  scratch: string,
  limit: TransferLimit,
): Promise<Collected> {
  const dir = await mkdtemp(path.join(scratch, 'collect-'));
  const folders: (string | undefined)[] = [];
  for (const [index, mount] of mounts.entries()) {
    if (mount.readOnly) {
      folders.push(undefined);
      continue;
    }
    const outTar = `${CONTROL_DIR}/out-${index}.tar`;
    // Prodigy's worktrees are copies of the checkout: what they made is in the commits.
    const excluded = [...coveredNames(mount, mounts), 'worktrees'];
    // The top-level entries but the excluded ones, by name: busybox's tar has no --exclude.
    const script = [
      'set -e',
      `cd ${quote(mount.target)}`,
      'set --',
      'for f in * .[!.]* ..?*; do',
      '  [ -e "$f" ] || [ -L "$f" ] || continue',
      `  case "$f" in ${excluded.map(quote).join('|')}) continue ;; esac`,
      '  set -- "$@" "./$f"',
      'done',
      `if [ $# -eq 0 ]; then tar -c -f ${outTar} --no-recursion .; else tar -c -f ${outTar} "$@"; fi`,
      `echo "tar $(sha256sum ${outTar} | cut -d' ' -f1)"`,
    ].join('\n');
    const folder = path.join(dir, `mount-${index}`);
    await fetchPacked(
      cluster,
      pod,
      { what: mount.target, script, remoteTar: outTar },
      folder,
      limit,
    );
    folders.push(folder);
  }
  // Everything is here, so the release cannot cost the results: the keeper sees the marker
  // and exits at once, and the container's stop can kill the exec's own shell before it answers
  // (exit code 137) or drop the connection. Not tried again: the keeper may be gone already,
  // and it lets go by itself after KEEPER_HOLD_SECONDS anyway.
  await execScript(cluster, pod, KEEPER_CONTAINER, `touch ${COLLECTED_MARKER}`).catch(
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
  const script = [
    `[ -d ${quote(remote)} ] || { echo none; exit 0; }`,
    'set -e',
    `cd ${quote(remote)}`,
    // Claude writes as it goes: GNU tar's 1 ("a file changed as it was read") is a copy still.
    `tar -c -f ${peekTar} . || [ $? -eq 1 ]`,
    `echo "tar $(sha256sum ${peekTar} | cut -d' ' -f1)"`,
  ].join('\n');
  await rm(into, { recursive: true, force: true });
  return fetchPacked(cluster, pod, { what: remote, script, remoteTar: peekTar }, into, limit);
}

/**
 * Runs a packing script in the keeper (it prints `tar <sha256>` of the archive it made, or
 * `none` when there is nothing to pack), fetches the archive checked against that hash, and
 * unpacks it into `folder` with every link checked. Resolves false for `none`.
 */
async function fetchPacked(
  cluster: Cluster,
  pod: string,
  packing: { readonly what: string; readonly script: string; readonly remoteTar: string },
  folder: string,
  limit: TransferLimit,
): Promise<boolean> {
  const report = await execChecked(cluster, pod, `Packing ${packing.what}`, packing.script);
  if (/^none$/m.test(report)) return false;
  const tarSha = /^tar ([0-9a-f]{64})$/m.exec(report)?.[1];
  if (!tarSha) throw new Error(`Packing ${packing.what} in the pod reported no archive`);
  const localTar = `${folder}.tar`;
  try {
    await fetchFile(cluster, pod, packing.remoteTar, localTar, tarSha, limit);
    await extractChecked(localTar, folder, packing.what);
  } finally {
    await rm(localTar, { force: true });
  }
  return true;
}

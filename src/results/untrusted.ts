/**
 * Reading a file the workload could have written. A hostile workload leaves a link where a
 * results file should be (to /proc/self/environ, to the runner's credentials), a FIFO that
 * blocks the reader for ever, or /dev/zero; so such a file is opened without following links,
 * must be a regular file, and is read up to a bound. Folders on the way from the trusted root
 * are checked the same way: a linked folder is refused too.
 *
 * The checks are made on the open descriptor (fstat), so a file swapped after the check is not
 * read; a folder swapped for a link between the walk and the open is the one race left, and
 * only a workload still running could win it.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';

export class UntrustedFileError extends Error {
  override readonly name: string = 'UntrustedFileError';
}

/** The file is over the bound it was read with. */
export class FileTooLargeError extends UntrustedFileError {
  override readonly name = 'FileTooLargeError';
}

export interface UntrustedRead {
  /** What the file is, for messages: "the shard's results", "the usage counters". */
  readonly what: string;
  readonly maxBytes: number;
  /** A trusted folder the file lies under: every folder below it must be a real folder. */
  readonly root?: string;
}

/** Limits for what the action reads back from a run, by kind. */
export const ReadLimits = {
  /** The counting shell's few lines of counters. */
  usage: 64 * 1024,
  /** A shell's exit status. */
  status: 1024,
  /** Text shown in a message (stderr of map.input). */
  message: 1024 * 1024,
  /** A captured variable. */
  capture: 16 * 1024 * 1024,
  /** Work items, an input file, shard results. */
  data: 512 * 1024 * 1024,
} as const;

function describeType(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

async function checkFolders(root: string, file: string, what: string): Promise<void> {
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new UntrustedFileError(`${what} (${file}) is outside ${root}`);
  }
  const parts = relative.split(path.sep).slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    const stats = await lstat(current);
    if (!stats.isDirectory()) {
      throw new UntrustedFileError(
        `${what} is not read: ${current} is ${describeType(stats)}, not a folder (files the workload wrote are never read through links)`,
      );
    }
  }
}

/** The file's bytes; throws UntrustedFileError (or ENOENT's error) when it cannot be read safely. */
export async function readUntrusted(file: string, options: UntrustedRead): Promise<Buffer> {
  const { what, maxBytes } = options;
  if (options.root) await checkFolders(options.root, file, what);
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer that never comes.
    handle = await open(
      file,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new UntrustedFileError(
        `${what} is not read: ${file} is a symbolic link (files the workload wrote are never read through links)`,
      );
    }
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new UntrustedFileError(
        `${what} is not read: ${file} is ${describeType(stats)}, not a regular file`,
      );
    }
    const tooBig = () =>
      new FileTooLargeError(`${what} is not read: ${file} is over the limit of ${maxBytes} bytes`);
    if (stats.size > maxBytes) throw tooBig();
    // Read to the bound and one byte more: a file still growing is caught too.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(maxBytes + 1 - length, 1024 * 1024));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooBig();
    }
    return Buffer.concat(chunks, length);
  } finally {
    await handle.close();
  }
}

export async function readUntrustedText(file: string, options: UntrustedRead): Promise<string> {
  return (await readUntrusted(file, options)).toString('utf8');
}

/** As readUntrustedText, but undefined when the file does not exist. */
export async function readUntrustedTextIfAny(
  file: string,
  options: UntrustedRead,
): Promise<string | undefined> {
  try {
    return await readUntrustedText(file, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

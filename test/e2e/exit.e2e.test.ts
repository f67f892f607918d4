/**
 * The process ends when its work does: once the step has written its outputs (the action) or
 * printed them (the command-line tool), nothing it left open (a socket, a watch, a timer, the
 * stats follower) may keep it alive. The committed bundle, run as the runner and a user run it,
 * on each runtime.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ground } from '../support/ground.js';
import { tempWorkspace } from '../support/workspace.js';

const g = ground();
const root = path.resolve(import.meta.dirname, '../..');
/** How long after its last output the process may take to end. */
const EXIT_WITHIN_MS = 100;
/** A lingering handle shows on every try; a busy machine's hiccup does not: the best of these. */
const TRIES = 3;

interface Exited {
  readonly code: number | null;
  /** Wall-clock ms (epoch) when the process ended, as this test saw it. */
  readonly endedAt: number;
  /** Wall-clock ms of its last byte on stdout or stderr. */
  readonly lastOutputAt: number;
  readonly output: string;
}

function runBundle(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist', entry, 'index.js'), ...args], {
      env,
      ...(cwd ? { cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let lastOutputAt = 0;
    const take = (chunk: Buffer) => {
      lastOutputAt = performance.timeOrigin + performance.now();
      output += chunk.toString();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('exit', (code) =>
      resolve({ code, endedAt: performance.timeOrigin + performance.now(), lastOutputAt, output }),
    );
  });
}

const baseEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DOCKER_HOST: g.dockerHost,
});

/** The CLI's run: ms from its last printed line (the outputs) to its end. */
async function cliLinger(inputs: Record<string, string>): Promise<number> {
  const args = Object.entries(inputs).flatMap(([name, value]) => [`--${name}`, value]);
  const cwd = tempWorkspace();
  const run = await runBundle('cli', args, baseEnv(), cwd);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(/^status=succeeded$/m);
  return run.endedAt - run.lastOutputAt;
}

/** The action's main step: ms from its last write to GITHUB_OUTPUT to its end. */
async function stepLinger(inputs: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-exit-'));
  const files: Record<string, string> = {};
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV']) {
    files[name] = path.join(dir, name.toLowerCase());
    writeFileSync(files[name], '');
  }
  const env: NodeJS.ProcessEnv = { ...baseEnv(), ...files };
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: tempWorkspace(),
    RUNNER_TEMP: dir,
  });
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const run = await runBundle('main', [], env);
  expect(run.code, run.output).toBe(0);
  const written = statSync(files.GITHUB_OUTPUT!).mtimeMs;
  expect(written).toBeGreaterThan(0);
  return run.endedAt - Math.max(written, run.lastOutputAt);
}

async function best(linger: () => Promise<number>): Promise<number> {
  const tries: number[] = [];
  for (let i = 0; i < TRIES; i++) tries.push(await linger());
  return Math.min(...tries);
}

const docker = { command: 'echo hi', image: g.busyboxImage, 'pull-policy': 'never' };
const kubernetes = { ...docker, runtime: 'kubernetes', 'kubeconfig-path': g.kubeconfig };

describe('the process ends with its work', () => {
  it('the command-line tool, on Docker', async () => {
    expect(await best(() => cliLinger(docker))).toBeLessThan(EXIT_WITHIN_MS);
  });

  it('the action main step, on Docker', async () => {
    expect(await best(() => stepLinger(docker))).toBeLessThan(EXIT_WITHIN_MS);
  });

  it('the command-line tool, as a local process', async () => {
    const local = { command: 'echo hi', runtime: 'local' };
    expect(await best(() => cliLinger(local))).toBeLessThan(EXIT_WITHIN_MS);
  });

  it('the command-line tool, on Kubernetes', async () => {
    expect(await best(() => cliLinger(kubernetes))).toBeLessThan(EXIT_WITHIN_MS);
  }, 120_000);

  it('the action main step, on Kubernetes', async () => {
    expect(await best(() => stepLinger(kubernetes))).toBeLessThan(EXIT_WITHIN_MS);
  }, 120_000);
});

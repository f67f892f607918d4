/**
 * The runner-protocol harness (test/harness/runner.ts), proved on tiny actions written on the fly:
 * an action.yml and plain .mjs scripts run by the same Node as the tests.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  runAction,
  SIGINT_TIMEOUT_MS,
  SIGTERM_TIMEOUT_MS,
  type RunActionOptions,
} from '../harness/runner.js';

interface Fixture {
  inputs?: string;
  main: string;
  post?: string;
  postIf?: string;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function fixtureAction(fixture: Fixture): string {
  const dir = tempDir('harness-action-');
  const runs = [
    'runs:',
    '  using: node24',
    '  main: main.mjs',
    ...(fixture.post ? ['  post: post.mjs'] : []),
    ...(fixture.postIf ? [`  post-if: ${fixture.postIf}`] : []),
  ];
  writeFileSync(
    path.join(dir, 'action.yml'),
    [
      'name: fixture',
      'description: a test fixture',
      fixture.inputs ?? 'inputs: {}',
      ...runs,
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'main.mjs'), fixture.main);
  if (fixture.post) writeFileSync(path.join(dir, 'post.mjs'), fixture.post);
  return dir;
}

async function run(
  fixture: Fixture,
  options: Omit<RunActionOptions, 'actionDir' | 'workspace'> = {},
) {
  const result = await runAction({
    actionDir: fixtureAction(fixture),
    workspace: tempDir('harness-ws-'),
    ...options,
  });
  tempDirs.push(result.runnerTemp);
  return result;
}

const pidsToKill: number[] = [];
afterEach(() => {
  for (const pid of pidsToKill.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runAction: the step environment', () => {
  it('runs main with Node 24 in the workspace, inputs from action.yml defaults, and a minimal env', async () => {
    const { main, runnerTemp } = await run(
      {
        inputs: [
          'inputs:',
          '  greeting: { description: d, default: hello }',
          '  who: { description: d, default: nobody }',
          '  no-default: { description: d }',
          '  with space: { description: d, default: spaced }',
          '  ttl: { description: d, default: 3600 }',
        ].join('\n'),
        main: `
          import { readFileSync } from 'node:fs';
          const files = ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_PATH'];
          console.log(JSON.stringify({
            version: process.version,
            cwd: process.cwd(),
            env: process.env,
            fileContents: files.map((name) => readFileSync(process.env[name], 'utf8')),
          }));
        `,
      },
      {
        inputs: { who: 'world', extra: 'x' },
        env: { DOCKER_HOST: 'unix:///x.sock', GITHUB_RUN_ID: '42' },
      },
    );
    expect(main.exitCode).toBe(0);
    expect(main.failed).toBe(false);
    expect(main.conclusion).toBe('success');
    const seen = JSON.parse(main.lines[0]!) as {
      version: string;
      cwd: string;
      env: Record<string, string>;
      fileContents: string[];
    };
    expect(Number(seen.version.slice(1).split('.')[0])).toBeGreaterThanOrEqual(24);
    const env = seen.env;
    expect(env).toMatchObject({
      INPUT_GREETING: 'hello',
      INPUT_WHO: 'world',
      'INPUT_NO-DEFAULT': '',
      INPUT_WITH_SPACE: 'spaced',
      INPUT_TTL: '3600',
      INPUT_EXTRA: 'x',
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: runnerTemp,
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'test',
      GITHUB_REPOSITORY: expect.stringMatching(/^[^/]+\/[^/]+$/),
      GITHUB_ACTION: expect.any(String),
      DOCKER_HOST: 'unix:///x.sock',
    });
    expect(seen.cwd).toBe(env.GITHUB_WORKSPACE);
    expect(env.ACTIONS_RUNTIME_TOKEN).toBeUndefined();
    expect(env.VITEST).toBeUndefined();
    for (const name of [
      'GITHUB_OUTPUT',
      'GITHUB_ENV',
      'GITHUB_STATE',
      'GITHUB_STEP_SUMMARY',
      'GITHUB_PATH',
    ]) {
      expect(env[name]!.startsWith(path.join(runnerTemp, '_runner_file_commands') + path.sep)).toBe(
        true,
      );
    }
    expect(seen.fileContents).toEqual(['', '', '', '', '']);
    expect(main.annotations).toEqual([
      {
        level: 'warning',
        message:
          "Unexpected input(s) 'extra', valid inputs are ['greeting', 'who', 'no-default', 'with space', 'ttl']",
      },
    ]);
  });
});

describe('runAction: outputs and state', () => {
  it('takes outputs from $GITHUB_OUTPUT (both forms) and from ::set-output, the file winning', async () => {
    const { main } = await run({
      main: `
        import { appendFileSync } from 'node:fs';
        console.log('::set-output name=from-command::a%0Ab%25');
        console.log('::set-output name=both::command');
        appendFileSync(process.env.GITHUB_OUTPUT, 'simple=v=1\\nmulti<<EOF_1\\nline 1\\nline 2\\nEOF_1\\nboth=file\\n');
        appendFileSync(process.env.GITHUB_STATE, 'kept<<X\\nX\\n');
      `,
    });
    expect(main.outputs).toEqual({
      'from-command': 'a\nb%',
      both: 'file',
      simple: 'v=1',
      multi: 'line 1\nline 2',
    });
    expect(main.state).toEqual({ kept: '' });
    expect(main.lines).toEqual([]);
    expect(main.commands.map((c) => c.name)).toEqual(['set-output', 'set-output']);
    expect(main.annotations.filter((a) => a.level === 'warning')).toHaveLength(2);
    expect(main.annotations[0]!.message).toMatch(/^The `set-output` command is deprecated/);
  });

  it('fails the step on a malformed file command, keeping the entries before it', async () => {
    const { main } = await run({
      main: `
        import { appendFileSync } from 'node:fs';
        appendFileSync(process.env.GITHUB_OUTPUT, 'good=1\\nno equals sign\\nlate=2\\n');
      `,
    });
    expect(main.exitCode).toBe(0);
    expect(main.failed).toBe(true);
    expect(main.outputs).toEqual({ good: '1' });
    expect(main.annotations).toEqual([
      { level: 'error', message: "Unable to process file command 'output' successfully." },
      { level: 'error', message: "Invalid format 'no equals sign'" },
    ]);
  });

  it('drops a step summary over 1 MiB with an error, and masks a small one', async () => {
    const big = await run({
      main: `
        import { appendFileSync } from 'node:fs';
        appendFileSync(process.env.GITHUB_STEP_SUMMARY, 'x'.repeat(1024 * 1024 + 1));
      `,
    });
    expect(big.main.summary).toBe('');
    expect(big.main.failed).toBe(false);
    expect(big.main.annotations).toEqual([
      {
        level: 'error',
        message: expect.stringMatching(
          /^\$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1024k/,
        ),
      },
    ]);

    const small = await run({
      main: `
        import { appendFileSync } from 'node:fs';
        console.log('::add-mask::s3cret');
        appendFileSync(process.env.GITHUB_STEP_SUMMARY, '# Title\\nthe s3cret is here');
      `,
    });
    expect(small.main.summary).toBe('# Title\nthe *** is here\n');
  });
});

describe('runAction: workflow commands', () => {
  it('ignores ::set-output between ::stop-commands::TOKEN and ::TOKEN::, and honours it after', async () => {
    const { main } = await run({
      main: `
        console.log('before');
        console.log('::stop-commands::pause-token-1234');
        console.log('::set-output name=hijacked::yes');
        // Same stream as the markers: stdout and stderr are separate pipes, so a stderr line may
        // reach the runner after a later stdout line (after the resume token, here).
        console.log('::error::forged');
        console.log('  ::pause-token-1234::');
        console.log('::set-output name=after::yes');
      `,
    });
    expect(main.outputs).toEqual({ after: 'yes' });
    expect(main.lines).toContain('::set-output name=hijacked::yes');
    expect(main.lines).toContain('::error::forged');
    expect(main.annotations.map((a) => a.message)).not.toContain('forged');
    // The runner echoes both markers to the log, the token masked (it is longer than 6 characters).
    expect(main.log).toContain('::stop-commands::***');
    expect(main.log).toContain('  ::***::');
    expect(main.lines).not.toContain('::stop-commands::***');
    expect(main.masks).toContain('pause-token-1234');
  });

  it('masks every later line on both streams once ::add-mask:: is seen, one line of a multi-line value too', async () => {
    const { main } = await run({
      main: `
        // stdout and stderr are separate pipes whose relative order is not kept (on the runner
        // either), so the script pauses before switching streams.
        const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
        console.log('early hunter2');
        await settle();
        console.error('::add-mask::hunter2');
        await settle();
        console.log('late hunter2 and aHVudGVyMg== too');
        console.log('::add-mask::first line%0A  second line  ');
        await settle();
        console.error('second line alone');
        await settle();
        console.log('::error::leaked hunter2');
      `,
    });
    expect(main.lines).toEqual(['early hunter2', 'late *** and *** too', '*** alone']);
    expect(main.annotations).toContainEqual({ level: 'error', message: 'leaked ***' });
    expect(main.masks).toEqual([
      'hunter2',
      'first line\n  second line  ',
      'first line',
      'second line',
    ]);
    expect(main.rawStdout).toContain('late hunter2');
  });

  it('recognises :: commands after leading whitespace and the legacy ##[ form anywhere in a line', async () => {
    const { main } = await run({
      main: `
        console.log('   ::set-output name=indented::1');
        console.log('text ::set-output name=mid-line::no');
        console.log('prefix ##[set-output name=legacy;x=y]v%3Bw');
        console.log('::no-such-command::shown');
        console.log('::SET-OUTPUT NAME=upper::2');
      `,
    });
    expect(main.outputs).toEqual({ indented: '1', legacy: 'v;w', upper: '2' });
    expect(main.lines).toEqual(['text ::set-output name=mid-line::no', '::no-such-command::shown']);
  });

  it('records annotations with their properties, groups and debug', async () => {
    const { main } = await run(
      {
        main: `
          console.log('::group::Phase one');
          console.log('inside');
          console.log('::endgroup::');
          console.log('::error file=a.ts,line=3,title=Bad%2C bad::it broke%0Atwice');
          console.log('::warning::careful');
          console.log('::notice::fyi');
          console.log('::debug::details');
        `,
      },
      { debug: true },
    );
    expect(main.lines).toEqual(['inside']);
    expect(main.annotations).toEqual([
      { level: 'error', message: 'it broke\ntwice' },
      { level: 'warning', message: 'careful' },
      { level: 'notice', message: 'fyi' },
    ]);
    expect(main.commands.find((c) => c.name === 'error')?.properties).toEqual({
      file: 'a.ts',
      line: '3',
      title: 'Bad, bad',
    });
    expect(main.log).toEqual(
      expect.arrayContaining([
        '##[group]Phase one',
        'inside',
        '##[endgroup]',
        '##[error]it broke\ntwice',
        '##[debug]details',
      ]),
    );
  });
});

describe('runAction: output handling', () => {
  it('handles 100,000 lines and a 1 MB line, splitting at \\n, \\r\\n and \\r like the runner', async () => {
    const { main } = await run({
      main: `
        let out = '';
        for (let i = 1; i <= 100000; i++) out += i + '\\n';
        process.stdout.write(out);
        process.stdout.write('y'.repeat(1048576) + '\\n');
        process.stdout.write('a\\r\\nb\\rc\\n\\nno newline at the end');
      `,
    });
    expect(main.lines).toHaveLength(100_000 + 1 + 5);
    expect(main.lines.slice(0, 100_000).every((line, i) => line === String(i + 1))).toBe(true);
    expect(main.lines[100_000]).toBe('y'.repeat(1_048_576));
    expect(main.lines.slice(100_001)).toEqual(['a', 'b', 'c', '', 'no newline at the end']);
  });

  it('ends the step 5 s after node exits when a descendant holds stdout open', async () => {
    const { main } = await run({
      main: `
        import { spawn } from 'node:child_process';
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
        console.log('child ' + child.pid);
        child.unref();
      `,
    });
    pidsToKill.push(Number(main.lines[0]!.split(' ')[1]));
    expect(main.exitCode).toBe(0);
    expect(main.outputHeldOpen).toBe(true);
    expect(main.durationMs).toBeGreaterThanOrEqual(5000);
    expect(main.durationMs).toBeLessThan(8000);
  });
});

describe('runAction: cancellation', () => {
  it('sends SIGINT to node only; SIGTERM 7.5 s later; SIGKILL 2.5 s after that; post still runs', async () => {
    const { main, post } = await run(
      {
        main: `
          import { spawn } from 'node:child_process';
          const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
          console.log('child ' + child.pid);
          const start = Date.now();
          process.on('SIGINT', () => console.log('got SIGINT'));
          process.on('SIGTERM', () => console.log('got SIGTERM'));
          console.log('::save-state name=phase::started');
          setInterval(() => {}, 1000);
        `,
        post: `console.log('post sees ' + process.env.STATE_phase);`,
      },
      { cancelAfterMs: 500 },
    );
    const childPid = Number(main.lines[0]!.split(' ')[1]);
    pidsToKill.push(childPid);
    // The child shares node's process group: it would have died had the group been signalled.
    expect(alive(childPid)).toBe(true);

    expect(main.lines).toEqual([`child ${childPid}`, 'got SIGINT', 'got SIGTERM']);
    expect(main.signal).toBe('SIGKILL');
    expect(main.exitCode).toBeNull();
    expect(main.failed).toBe(true);
    expect(main.conclusion).toBe('cancelled');
    expect(main.annotations).toContainEqual({
      level: 'error',
      message: 'The operation was canceled.',
    });
    const c = main.cancellation!;
    expect(c.reason).toBe('cancel');
    expect(c.signals.map((s) => s.signal)).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    const [sigint, sigterm, sigkill] = c.signals.map((s) => s.atMs) as [number, number, number];
    expect(sigint - c.requestedAtMs).toBeLessThan(100);
    expect(sigterm - sigint).toBeGreaterThanOrEqual(SIGINT_TIMEOUT_MS - 10);
    expect(sigterm - sigint).toBeLessThan(SIGINT_TIMEOUT_MS + 500);
    expect(sigkill - sigterm).toBeGreaterThanOrEqual(SIGTERM_TIMEOUT_MS - 10);
    expect(sigkill - sigterm).toBeLessThan(SIGTERM_TIMEOUT_MS + 500);

    expect(post?.exitCode).toBe(0);
    expect(post?.lines).toEqual(['post sees started']);
  }, 30_000);

  it('stops at SIGINT when node exits on it, and cancels on a displayed line', async () => {
    const { main } = await run(
      {
        main: `
          process.on('SIGINT', () => { console.log('cleaning up'); process.exit(1); });
          console.log('ready');
          setInterval(() => {}, 1000);
        `,
      },
      { cancelWhen: (line) => line === 'ready' },
    );
    expect(main.lines).toEqual(['ready', 'cleaning up']);
    expect(main.exitCode).toBe(1);
    expect(main.cancellation?.signals.map((s) => s.signal)).toEqual(['SIGINT']);
    expect(main.durationMs).toBeLessThan(3000);
    expect(main.conclusion).toBe('cancelled');
  });

  it('fails a step that outlives timeoutMs, after the same sequence', async () => {
    const { main } = await run(
      { main: `console.log('slow'); setTimeout(() => {}, 60000);` },
      { timeoutMs: 300 },
    );
    expect(main.signal).toBe('SIGINT');
    expect(main.failed).toBe(true);
    expect(main.conclusion).toBe('failure');
    expect(main.cancellation?.reason).toBe('timeout');
    expect(main.annotations).toEqual([
      {
        level: 'error',
        message: expect.stringMatching(/^The action 'Run fixture' has timed out after/),
      },
    ]);
  });
});

describe('runAction: post', () => {
  it('gives post the inputs, STATE_ from both state forms, main env and masks, and fresh files', async () => {
    const { main, post } = await run(
      {
        inputs: 'inputs:\n  flavour: { description: d, default: plain }',
        main: `
          import { appendFileSync } from 'node:fs';
          console.log('::save-state name=from-command::one');
          appendFileSync(process.env.GITHUB_STATE, 'from-file<<E\\ntwo\\nlines\\nE\\n');
          appendFileSync(process.env.GITHUB_ENV, 'FROM_MAIN=yes\\n');
          console.log('::add-mask::main-secret');
          console.log('state file ' + process.env.GITHUB_STATE);
        `,
        post: `
          import { readFileSync } from 'node:fs';
          console.log(JSON.stringify({
            a: process.env['STATE_from-command'],
            b: process.env['STATE_from-file'],
            input: process.env.INPUT_FLAVOUR,
            env: process.env.FROM_MAIN,
            stateFile: process.env.GITHUB_STATE,
            stateContent: readFileSync(process.env.GITHUB_STATE, 'utf8'),
          }));
          console.log('post prints main-secret');
        `,
      },
      { inputs: { flavour: 'spicy' } },
    );
    expect(main.state).toEqual({ 'from-command': 'one', 'from-file': 'two\nlines' });
    expect(main.env).toEqual({ FROM_MAIN: 'yes' });
    const seen = JSON.parse(post!.lines[0]!) as Record<string, string>;
    expect(seen).toMatchObject({
      a: 'one',
      b: 'two\nlines',
      input: 'spicy',
      env: 'yes',
      stateContent: '',
    });
    expect(main.lines[0]).toBe(`state file ${main.lines[0]!.slice('state file '.length)}`);
    expect(seen.stateFile).not.toBe(main.lines[0]!.slice('state file '.length));
    expect(existsSync(seen.stateFile!)).toBe(true);
    expect(post!.lines[1]).toBe('post prints ***');
    expect(readFileSync(seen.stateFile!, 'utf8')).toBe('');
  });

  it('honours post-if and runPost', async () => {
    const failing = { main: 'process.exitCode = 1;', post: 'console.log("post");' };
    expect((await run({ ...failing, postIf: 'success()' })).post).toBeUndefined();
    expect((await run(failing)).post?.lines).toEqual(['post']);
    expect((await run(failing, { runPost: false })).post).toBeUndefined();
  });
});

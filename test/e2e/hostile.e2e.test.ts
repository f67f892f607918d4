/**
 * The workload is hostile, and so is the network under it: the committed bundle, through the
 * runner harness, against workloads that try each known way out of the container (SECURITY.md),
 * and against an engine whose connections are all cut during the run. What must hold is what a
 * user would check: the step's verdict, the outputs, every line once, secrets never shown, a
 * marker outside the workspace never written, refs that do not move, nothing left behind.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from '../harness/runner.js';
import { startCuttingProxy, type CuttingProxy } from '../support/cutting-proxy.js';
import { groundDocker, leftovers } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { tempWorkspace } from '../support/workspace.js';

const g = ground();
const actionDir = path.resolve(import.meta.dirname, '../..');
const docker = groundDocker();

const proxies: CuttingProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

describe('never green without a verdict', () => {
  it('on Docker: every engine connection cut twice, exit code 3 kept, every line once, nothing left', async () => {
    const proxy = await startCuttingProxy({ socketPath: g.dockerHost.replace(/^unix:\/\//, '') });
    proxies.push(proxy);
    const cuts: number[] = [];
    const timers = [2500, 5000].map((ms) => setTimeout(() => cuts.push(proxy.cutAll()), ms));
    try {
      const { main, post } = await runAction({
        actionDir,
        workspace: tempWorkspace(),
        env: { DOCKER_HOST: proxy.address },
        inputs: {
          // 80 lines over 8 seconds, then exit 3: the cuts land while it writes and waits.
          command:
            'i=1; while [ $i -le 80 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done; exit 3',
          image: g.busyboxImage,
          'pull-policy': 'never',
        },
      });
      console.log(
        JSON.stringify(
          { cuts, exit: main.exitCode, outputs: main.outputs, lines: main.lines.slice(-15) },
          null,
          1,
        ),
      );
      // Both cuts found open connections: the wait and the followed log at least.
      expect(cuts).toHaveLength(2);
      expect(cuts.every((n) => n >= 2)).toBe(true);
      expect(main.outputs.status).toBe('failed');
      expect(main.outputs['exit-code']).toBe('3');
      expect(main.failed).toBe(true);
      const relayed = main.lines.filter((line) => /^line \d+$/.test(line));
      expect(relayed).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`));
      expect(post?.exitCode).toBe(0);
      const runId = main.state.runId!;
      expect(await leftovers(docker, runId)).toEqual([]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  });
});

describe('nothing the workload writes becomes a workflow command', () => {
  it("file names quoted in the action's own messages cannot set outputs", async () => {
    // '?' is refused by the artifact service, so each file is renamed and the rename is reported
    // with both names in a line of the action's own.
    const { main } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        command: [
          "printf x > 'a ##[set-output name=status;]succeeded?'",
          `printf x > "$(printf 'b\\r::set-output name=exit-code::0?')"`,
          `printf x > "$(printf 'c\\n::add-mask::line?')"`,
          'exit 1',
        ].join('; '),
        image: g.busyboxImage,
        'pull-policy': 'never',
        artifacts: '*',
      },
    });
    expect(main.outputs.status).toBe('failed');
    expect(main.outputs['exit-code']).toBe('1');
    const injected = main.commands.filter((c) => ['set-output', 'add-mask'].includes(c.name));
    expect(injected).toEqual([]);
    expect(main.lines.filter((l) => l.startsWith('Put ')).length).toBe(3);
  });
});

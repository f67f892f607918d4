/**
 * Two hundred shards at once on Docker, the way the runner runs the action: `max-parallel: 200`
 * over 200 items of a two-second step, with the real Prodigy image. Every shard's output arrives
 * in its own fold, whole; the reduce counts every item; nothing is left on the engine.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAction } from '../harness/runner.js';
import { groundDocker, leftovers } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace } from '../support/workspace.js';

const g = ground();
const root = path.resolve(import.meta.dirname, '../..');
const SHARDS = 200;

function checkout(): string {
  const repo = gitWorkspace({
    'items.json': JSON.stringify(Array.from({ length: SHARDS }, (_, n) => ({ n }))),
  });
  writeFileSync(
    path.join(repo, 'scale.yml'),
    [
      'name: scale',
      'mode: mapreduce',
      'map:',
      '  input: items.json',
      '  max_parallel: 1',
      '  agent_template:',
      '    - shell: "sleep 2 && echo item ${item.n} slept"',
      'reduce:',
      '  - shell: "echo reduced ${map.successful} of ${map.total}"',
      'merge:',
      '  - shell: "git -C \\"$(git rev-parse --path-format=absolute --git-common-dir)/..\\" merge --no-edit ${merge.source_branch}"',
      '',
    ].join('\n'),
  );
  git(repo, 'add', 'scale.yml');
  git(repo, 'commit', '-qm', 'scale');
  return repo;
}

describe(`${SHARDS} shards at once on Docker`, () => {
  it(
    'delivers every shard its fold, whole, reduces every item and leaves nothing',
    async () => {
      const docker = groundDocker();
      const { main, post } = await runAction({
        actionDir: root,
        workspace: checkout(),
        env: { DOCKER_HOST: g.dockerHost },
        inputs: {
          workflow: 'scale.yml',
          'max-parallel': String(SHARDS),
          image: g.prodigyImage,
          'pull-policy': 'never',
        },
        timeoutMs: 20 * 60_000,
      });
      expect(main.exitCode, main.lines.slice(-30).join('\n')).toBe(0);
      expect(main.outputs.status).toBe('succeeded');
      expect(main.summary).toContain(
        `**Items:** ${SHARDS} successful, 0 failed (total ${SHARDS}), in ${SHARDS} shard(s).`,
      );

      // Each shard's fold, in shard order, holds its own lines only, to Prodigy's last word.
      const folds = new Map<string, string[]>();
      let open: string[] | undefined;
      for (const line of main.log) {
        if (line.startsWith('##[group]')) folds.set(line.slice(9), (open = []));
        else if (line === '##[endgroup]') open = undefined;
        else if (open && !/^::[^:\s]*::/.test(line)) open.push(line);
      }
      const titles = [...folds.keys()].filter((t) => /^shard \d+ of \d+: /.test(t));
      expect(titles).toEqual(
        Array.from(
          { length: SHARDS },
          (_, i) => `shard ${i + 1} of ${SHARDS}: 1 item(s), item_${i} to item_${i}`,
        ),
      );
      titles.forEach((title, i) => {
        const lines = folds.get(title)!;
        const prefix = `[shard ${i + 1}/${SHARDS}] `;
        expect(lines.filter((l) => !l.startsWith(prefix))).toEqual([]);
        expect(
          lines.some((l) => l.includes('Map phase completed')),
          title,
        ).toBe(true);
      });

      expect(post?.exitCode).toBe(0);
      expect(await leftovers(docker, main.state['run-id']!)).toEqual([]);
    },
    25 * 60_000,
  );
});

/**
 * The real Claude Code CLI of the agent image against the local Messages API stand-in
 * (test/support/anthropic-stand-in.ts): first what the CLI sends, checked request by request, so
 * the stand-in speaks the protocol the CLI does; then Prodigy's `claude:` step through the
 * action, whose commit reaches the runner's checkout, with the API key a secret that never shows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Annotation, runAction } from '../harness/runner.js';
import {
  type AnthropicStandIn,
  COMMIT_MESSAGE,
  HELLO_FILE,
  HELLO_TEXT,
  SERVED_USAGE,
  startAnthropicStandIn,
} from '../support/anthropic-stand-in.js';
import { ArtifactService } from '../support/artifact-service.js';
import { clusterLeftovers } from '../support/cluster.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace } from '../support/workspace.js';

const run = promisify(execFile);
const g = ground();
const actionDir = path.resolve(import.meta.dirname, '../..');
const pinned = /CLAUDE_CODE_VERSION=(\S+)/.exec(
  readFileSync(path.resolve(import.meta.dirname, '../../images/agent/versions'), 'utf8'),
)![1]!;
const API_KEY = 'sk-ant-api03-standin-Zq8vK2mN4pR7sT1w';

/**
 * The host's address on a bridge: Docker's docker0 for containers, the cluster's cni0 for pods;
 * the stand-in listens there only. Not os.networkInterfaces(): it leaves out a bridge with no
 * container attached (no carrier).
 */
function bridgeAddress(bridge: 'docker0' | 'cni0'): string {
  const shown = execFileSync('ip', ['-4', '-o', 'addr', 'show', bridge], { encoding: 'utf8' });
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(shown)?.[1];
  if (!address) throw new Error(`the bridge ${bridge} has no IPv4 address on this host`);
  return address;
}

const standIns: AnthropicStandIn[] = [];
afterEach(async () => {
  for (const standIn of standIns.splice(0)) await standIn.close();
});

let artifacts: ArtifactService;
beforeAll(async () => {
  artifacts = await ArtifactService.start();
});
afterAll(async () => {
  await artifacts.close();
});

function unzipped(id: number, annotations: readonly Annotation[]): Record<string, string> {
  const stored = artifacts.artifacts.find((a) => a.id === id);
  if (!stored) throw new Error(`no artifact ${id} arrived: ${JSON.stringify(annotations)}`);
  return Object.fromEntries(
    Object.entries(unzipSync(stored.zip)).map(([name, data]) => [
      name,
      Buffer.from(data).toString('utf8'),
    ]),
  );
}

async function standIn(
  bridge: 'docker0' | 'cni0' = 'docker0',
): Promise<{ api: AnthropicStandIn; url: string }> {
  const gateway = bridgeAddress(bridge);
  const api = await startAnthropicStandIn(gateway);
  standIns.push(api);
  return { api, url: api.url(gateway) };
}

function messages(api: AnthropicStandIn) {
  return api.requests
    .filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages'))
    .map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));
}

/** Runs the real CLI once on a fresh checkout, as Prodigy does not: its own JSON result. */
async function claudeDirect(url: string): Promise<{
  result: { is_error: boolean; num_turns: number; total_cost_usd: number; result: string };
  workspace: string;
  out: string;
}> {
  const workspace = gitWorkspace({ 'README.md': 'a project\n' });
  chmodSync(workspace, 0o777);
  execFileSync('chmod', ['-R', 'a+rwX', workspace]);
  // Not execFileSync: the stand-in answers from this very process.
  const { stdout: out } = await run(
    'docker',
    [
      'run',
      '--rm',
      '-v',
      `${workspace}:/workspace`,
      '-e',
      `ANTHROPIC_BASE_URL=${url}`,
      '-e',
      `ANTHROPIC_API_KEY=${API_KEY}`,
      g.agentImage,
      'claude',
      '-p',
      'Add hello.txt and commit it.',
      '--dangerously-skip-permissions',
      '--output-format',
      'json',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { result: JSON.parse(out), workspace, out };
}

/**
 * What Claude itself prices one of the stand-in's answers at (SERVED_USAGE on the model the CLI
 * asks for): from the CLI's own result, not a price list of ours.
 */
let answerCost: number | undefined;
async function claudeCostOfAnswer(): Promise<number> {
  if (answerCost === undefined) {
    const { url } = await standIn();
    const { result } = await claudeDirect(url);
    answerCost = result.total_cost_usd / result.num_turns;
  }
  return answerCost;
}

describe('the real Claude Code CLI against the stand-in', () => {
  it('sends what the stand-in answers: streamed Messages requests with its key, version and tools', async () => {
    const { api, url } = await standIn();
    const { result, workspace, out } = await claudeDirect(url);
    expect(result.is_error, out).toBe(false);
    expect(result.num_turns).toBe(3);
    expect(result.total_cost_usd).toBeGreaterThan(0);
    answerCost ??= result.total_cost_usd / result.num_turns;
    expect(readFileSync(path.join(workspace, HELLO_FILE), 'utf8')).toBe(HELLO_TEXT);
    expect(git(workspace, 'log', '-1', '--format=%s')).toBe(COMMIT_MESSAGE);

    const sent = messages(api);
    expect(sent).toHaveLength(3);
    for (const request of sent) {
      expect(request.url).toBe('/v1/messages?beta=true');
      expect(request.headers['x-api-key']).toBe(API_KEY);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(new RegExp(`^claude-cli/${pinned} `));
      expect(String(request.headers['anthropic-beta'])).toContain('claude-code-20250219');
      expect(request.json.stream).toBe(true);
      expect(typeof request.json.model).toBe('string');
      const tools = (request.json.tools as { name: string; input_schema: unknown }[]).map(
        (t) => t.name,
      );
      expect(tools).toEqual(expect.arrayContaining(['Write', 'Bash']));
      expect(request.body).toContain('Primary working directory: /workspace');
    }
    // Each answer's tool use comes back as a tool_result for the same id.
    expect(sent[1]!.body).toContain('"tool_use_id":"toolu_standin_1_write"');
    expect(sent[2]!.body).toContain('"tool_use_id":"toolu_standin_2_bash"');
  });
});

interface Place {
  readonly name: string;
  readonly bridge: 'docker0' | 'cni0';
  readonly inputs: Record<string, string>;
  readonly env: Record<string, string>;
}
const places: Place[] = [
  {
    name: 'on Docker',
    bridge: 'docker0',
    inputs: {},
    env: { DOCKER_HOST: g.dockerHost },
  },
  {
    name: 'on the cluster',
    bridge: 'cni0',
    inputs: { runtime: 'kubernetes', 'kubeconfig-path': g.kubeconfig },
    env: {},
  },
];

const onDocker = places[0]!;

/** The action runs the workspace's wf.yml in the agent image, its Claude answered at `url`. */
async function runClaudeWorkflow(
  place: Place,
  workspace: string,
  url: string,
  more: { inputs?: Record<string, string>; env?: Record<string, string> } = {},
) {
  const { main } = await runAction({
    actionDir,
    workspace,
    env: { ...place.env, ...more.env },
    inputs: {
      ...place.inputs,
      workflow: 'wf.yml',
      image: g.agentImage,
      'pull-policy': 'never',
      env: `ANTHROPIC_BASE_URL=${url}`,
      secrets: `ANTHROPIC_API_KEY=${API_KEY}`,
      ...more.inputs,
    },
  });
  return main;
}

describe.each(places)(
  "Prodigy's claude: step with the real CLI, through the action, $name",
  (place) => {
    it('the commit Claude made reaches the checkout, and the key never shows', async () => {
      const { api, url } = await standIn(place.bridge);
      const workspace = gitWorkspace({
        'wf.yml': [
          'name: claude-e2e',
          'commands:',
          '  - claude: "/add-hello"',
          '    commit_required: true',
          'merge:',
          '  - shell: "git -C \\"$(git rev-parse --path-format=absolute --git-common-dir)/..\\" merge --no-edit ${merge.source_branch}"',
          '',
        ].join('\n'),
        '.claude/commands/add-hello.md': 'Add hello.txt saying hello, and commit it.\n',
      });
      const before = git(workspace, 'rev-parse', 'HEAD');
      const perAnswer = await claudeCostOfAnswer();
      const main = await runClaudeWorkflow(place, workspace, url, {
        env: {
          ...artifacts.envForJob(`claude-${place.bridge}`),
          GITHUB_JOB: `claude-${place.bridge}`,
        },
      });
      expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
      expect(git(workspace, 'log', '--format=%s', `${before}..HEAD`)).toContain(COMMIT_MESSAGE);
      expect(readFileSync(path.join(workspace, HELLO_FILE), 'utf8')).toBe(HELLO_TEXT);
      expect(main.outputs.commits).not.toBe('0');
      // The key reached the API, as a secret, and nowhere in what the step shows.
      expect(messages(api).length).toBeGreaterThanOrEqual(3);
      expect(messages(api).every((r) => r.headers['x-api-key'] === API_KEY)).toBe(true);
      expect(main.lines.join('\n')).not.toContain(API_KEY);
      expect(JSON.stringify(main.outputs)).not.toContain(API_KEY);

      // What it cost: the tokens the stand-in served, priced as Claude priced them.
      const served = messages(api).length;
      const measured = JSON.parse(main.outputs.metrics!) as Record<string, number>;
      expect(measured).toMatchObject({
        claude_sessions: 1,
        claude_turns: served,
        input_tokens: served * SERVED_USAGE.input_tokens,
        output_tokens: served * SERVED_USAGE.output_tokens,
        cache_read_tokens: served * SERVED_USAGE.cache_read_input_tokens,
        cache_write_tokens: served * SERVED_USAGE.cache_creation_input_tokens,
      });
      expect(measured.claude_unpriced_sessions).toBeUndefined();
      expect(Number(main.outputs['cost-usd'])).toBeCloseTo(served * perAnswer, 6);
      expect(measured.cost_usd).toBe(Number(main.outputs['cost-usd']));
      expect(main.summary).toContain('| Claude | Sessions | Turns |');
      expect(main.summary).toContain(
        `| 1 | ${served} | ${(served * 1200).toLocaleString('en-US')} |`,
      );

      // Claude's transcript is in the artifact, the key masked out of it.
      const files = unzipped(Number(main.outputs['artifact-id']), main.annotations);
      const transcripts = Object.keys(files).filter((f) => /^claude\/projects\/.+\.jsonl$/.test(f));
      expect(transcripts).toHaveLength(1);
      expect(files[transcripts[0]!]).toContain('"type":"assistant"');
      expect(files[transcripts[0]!]).toContain('add-hello');
      expect(Object.values(files).join('\n')).not.toContain(API_KEY);
      expect(Object.keys(files).some((f) => f.startsWith('prodigy/claude/'))).toBe(false);
      if (place.bridge === 'cni0') expect(clusterLeftovers(main.state['run-id']!)).toBe('');
    });

    it('a MapReduce workflow whose agents run Claude: every item committed, its cost its own', async () => {
      const { api, url } = await standIn(place.bridge);
      const workspace = gitWorkspace({
        'wf.yml': [
          'name: claude-map',
          'mode: mapreduce',
          'map:',
          '  input: items.json',
          '  json_path: "$[*]"',
          '  agent_template:',
          '    - claude: "/add-hello ${item.name}"',
          '      commit_required: true',
          '  max_parallel: 2',
          'merge:',
          '  - shell: "git -C \\"$(git rev-parse --path-format=absolute --git-common-dir)/..\\" merge --no-edit ${merge.source_branch}"',
          '',
        ].join('\n'),
        'items.json': '[{"name": "a"}, {"name": "b"}]',
        '.claude/commands/add-hello.md': 'Add hello.txt saying hello, and commit it.\n',
      });
      const perAnswer = await claudeCostOfAnswer();
      const main = await runClaudeWorkflow(place, workspace, url);
      // Prodigy starts each agent's Claude with a cleared environment; the key still arrives.
      expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
      expect(main.lines.join('\n')).toContain('2 successful, 0 failed');
      const sent = messages(api);
      expect(sent).toHaveLength(6);
      expect(sent.every((r) => r.headers['x-api-key'] === API_KEY)).toBe(true);
      expect(main.lines.join('\n')).not.toContain(API_KEY);
      // Prodigy's own branches for its agents stay its own, without a word.
      expect(main.lines.join('\n')).not.toContain("neither the run's own");

      const measured = JSON.parse(main.outputs.metrics!) as {
        claude_items: Record<string, Record<string, number>>;
      } & Record<string, number>;
      expect(measured).toMatchObject({ claude_sessions: 2, claude_turns: 6 });
      expect(Number(main.outputs['cost-usd'])).toBeCloseTo(6 * perAnswer, 6);
      for (const item of ['item_0', 'item_1']) {
        expect(measured.claude_items[item]).toMatchObject({
          claude_sessions: 1,
          claude_turns: 3,
          input_tokens: 3 * SERVED_USAGE.input_tokens,
          output_tokens: 3 * SERVED_USAGE.output_tokens,
        });
        expect(measured.claude_items[item]!.cost_usd).toBeCloseTo(3 * perAnswer, 6);
      }
      if (place.bridge === 'cni0') expect(clusterLeftovers(main.state['run-id']!)).toBe('');
    });
  },
);

describe('Claude across shards', () => {
  it("a MapReduce run split over two containers: each item's cost under its own name, the whole added up", async () => {
    const { api, url } = await standIn();
    const workspace = gitWorkspace({
      'wf.yml': [
        'name: claude-shards',
        'mode: mapreduce',
        'map:',
        '  input: items.json',
        '  json_path: "$[*]"',
        '  agent_template:',
        '    - claude: "/add-hello ${item.name}"',
        '      commit_required: true',
        'merge:',
        '  - shell: "git -C \\"$(git rev-parse --path-format=absolute --git-common-dir)/..\\" merge --no-edit ${merge.source_branch}"',
        '',
      ].join('\n'),
      'items.json': '[{"name": "a"}, {"name": "b"}, {"name": "c"}]',
      '.claude/commands/add-hello.md': 'Add hello.txt saying hello, and commit it.\n',
    });
    const perAnswer = await claudeCostOfAnswer();
    const main = await runClaudeWorkflow(onDocker, workspace, url, {
      inputs: { 'max-parallel': '2' },
    });
    const served = messages(api).length;
    expect(served).toBe(9);
    expect(Number(main.outputs['cost-usd'])).toBeCloseTo(served * perAnswer, 6);
    const measured = JSON.parse(main.outputs.metrics!) as {
      claude_turns: number;
      shards: { claude_turns?: number }[];
      items: { item_id: string; claude_turns?: number; cost_usd?: number }[];
    };
    expect(measured.claude_turns).toBe(served);
    expect(measured.shards.map((s) => s.claude_turns ?? 0).reduce((a, b) => a + b, 0)).toBe(served);
    expect(measured.items.map((i) => [i.item_id, i.claude_turns])).toEqual([
      ['item_0', 3],
      ['item_1', 3],
      ['item_2', 3],
    ]);
    for (const item of measured.items) expect(item.cost_usd).toBeCloseTo(3 * perAnswer, 6);
    expect(main.summary).toContain('| Item | Shard | Status | Duration | Claude cost | Error |');
  });
});

describe('git-merge and verbosity', () => {
  it("merges a shell-only workflow's session with git, no merge block and no Claude, and shows its output", async () => {
    const { api, url } = await standIn();
    const workspace = gitWorkspace({
      'wf.yml': [
        '- shell: "echo made-by-shell > shell.txt && git add shell.txt && git commit -qm \'shell: add shell.txt\'"',
        '  commit_required: true',
        '- shell: "echo VISIBLE-STEP-OUTPUT"',
        '',
      ].join('\n'),
    });
    const before = git(workspace, 'rev-parse', 'HEAD');
    // Claude could answer; it is never asked.
    const main = await runClaudeWorkflow(onDocker, workspace, url, {
      inputs: { 'git-merge': 'true', verbosity: '1' },
    });
    const log = main.lines.join('\n');
    expect(main.outputs.status, log).toBe('succeeded');
    expect(git(workspace, 'log', '--format=%s', `${before}..HEAD`)).toContain(
      'shell: add shell.txt',
    );
    expect(readFileSync(path.join(workspace, 'shell.txt'), 'utf8')).toBe('made-by-shell\n');
    // The step's own output, which Prodigy shows from verbosity 1 on.
    expect(main.lines).toContain('VISIBLE-STEP-OUTPUT');
    expect(log).toContain('merged with git');
    // Claude was never asked, to merge or anything else.
    expect(messages(api)).toHaveLength(0);
    expect(main.outputs['cost-usd']).toBe('0');
  });
});

/** Four Claude sessions one after another, three answers each, when nothing stops them. */
const FOUR_SESSIONS = [
  'name: claude-sessions',
  'commands:',
  ...[1, 2, 3, 4].map((n) => `  - claude: "/add-hello ${n}"`),
  '',
].join('\n');

describe.each(places)('spend and turn caps, $name', (place) => {
  it('max-cost-usd: the run is stopped once the sessions cost more, and fails saying so', async () => {
    const { api, url } = await standIn(place.bridge);
    const workspace = gitWorkspace({
      'wf.yml': FOUR_SESSIONS,
      '.claude/commands/add-hello.md': 'Add hello.txt saying hello, and commit it.\n',
    });
    const perSession = 3 * (await claudeCostOfAnswer());
    // More than one session costs, less than two.
    const cap = Number((1.5 * perSession).toFixed(4));
    const main = await runClaudeWorkflow(place, workspace, url, {
      inputs: { 'max-cost-usd': String(cap) },
    });
    const log = main.lines.join('\n');
    expect(main.outputs.status, log).toBe('failed');
    expect(main.exitCode).not.toBe(0);
    const stopped = `Claude's spend passed max-cost-usd ${cap}`;
    expect(log).toContain(`${stopped}: $`);
    expect(main.annotations.some((a) => a.message.includes(stopped))).toBe(true);
    // Every session got the cap as Claude's own limit.
    const served = messages(api).length;
    expect(served).toBeGreaterThanOrEqual(6);
    expect(served).toBeLessThan(12);
    // What was reported is what was spent: past the cap, short of all four sessions.
    const cost = Number(main.outputs['cost-usd']);
    expect(cost).toBeGreaterThan(cap);
    expect(cost).toBeLessThan(4 * perSession);
    const leftovers =
      place.bridge === 'cni0'
        ? clusterLeftovers(main.state['run-id']!)
        : execFileSync(
            'docker',
            ['ps', '-aq', '--filter', `label=io.prodigy.cook-action.run=${main.state['run-id']}`],
            { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: g.dockerHost } },
          ).trim();
    expect(leftovers).toBe('');
  });

  it("max-turns: Claude's own limit ends the session, and the step fails naming the cap", async () => {
    const { api, url } = await standIn(place.bridge);
    const workspace = gitWorkspace({
      'wf.yml': FOUR_SESSIONS,
      '.claude/commands/add-hello.md': 'Add hello.txt saying hello, and commit it.\n',
    });
    const main = await runClaudeWorkflow(place, workspace, url, { inputs: { 'max-turns': '2' } });
    const log = main.lines.join('\n');
    expect(main.outputs.status, log).toBe('failed');
    const error = main.annotations.map((a) => a.message).join('\n');
    expect(error, log).toMatch(
      /Claude's turns (reached|passed) max-turns 2: \d+ turns in 1 session/,
    );
    // The first session was cut short, and no other began.
    expect(messages(api).length).toBeLessThan(3);
    const measured = JSON.parse(main.outputs.metrics!) as Record<string, number>;
    expect(measured.claude_turns).toBe(messages(api).length);
  });
});

/**
 * The pull-request comment against a stand-in for GitHub's REST API (test/support/github-api.ts),
 * through the real octokit of @actions/github: one comment per workflow per pull request, found
 * by its marker on any page and edited in place; clear errors that never hold the token; a body
 * GitHub accepts however long the summary.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COMMENT_BODY_LIMIT,
  CommentError,
  commentBody,
  commentMarker,
  upsertComment,
} from '../../src/report/comment.js';
import { GitHubApi } from '../support/github-api.js';

const PR = 42;
const RUN_URL = 'https://github.com/octo-org/hello-world/actions/runs/123456/attempts/1';

let api: GitHubApi;

beforeEach(async () => {
  api = await GitHubApi.start();
  api.openPullRequest(PR);
});

afterEach(async () => {
  await api.close();
});

function run(workflow: string, shortSummary: string, extra: { pullRequest?: number } = {}) {
  return upsertComment({
    token: api.token,
    apiUrl: api.url,
    repository: api.repository,
    pullRequest: extra.pullRequest ?? PR,
    workflow,
    body: commentBody({ workflow, shortSummary, runUrl: RUN_URL }),
  });
}

const withMarker = (workflow: string) =>
  api.comments(PR).filter((c) => c.body.includes(commentMarker(workflow)));
const writes = () => api.requests.filter((r) => r.method !== 'GET');

describe('commentMarker', () => {
  it('is a hidden HTML comment naming the workflow', () => {
    expect(commentMarker('CI')).toBe('<!-- cook-action:comment workflow="CI" -->');
    expect(commentMarker('cook-action tests')).toBe(
      '<!-- cook-action:comment workflow="cook-action tests" -->',
    );
  });

  it('cannot end the HTML comment early, and keeps different names apart', () => {
    const names = [
      'a--b',
      'a-%2Db',
      'a%2D-b',
      'x -->y',
      'x --!>y',
      'x>y',
      'x%3Ey',
      'say "hi"',
      'line\nbreak',
      '-',
      '--',
      '---',
      'a-',
      'a',
    ];
    const markers = names.map(commentMarker);
    for (const marker of markers) {
      const inner = marker.slice('<!--'.length, -'-->'.length);
      expect(inner).not.toContain('--');
      expect(inner).not.toContain('>');
      expect(inner).not.toContain('\n');
      expect((inner.match(/"/g) ?? []).length).toBe(2);
    }
    expect(new Set(markers).size).toBe(names.length);
    // Encoding is reversible, which is what keeps names apart.
    for (const [i, marker] of markers.entries()) {
      const value = /workflow="([^"]*)"/.exec(marker)![1]!;
      expect(decodeURIComponent(value)).toBe(names[i]);
    }
  });
});

describe('commentBody', () => {
  it('holds the marker first, the summary, the run link and the time', () => {
    const body = commentBody({
      workflow: 'CI',
      shortSummary: '### cook-action: build\n\n| Status | ✅ succeeded |\n',
      runUrl: RUN_URL,
      updatedAt: new Date('2025-01-02T03:04:05.000Z'),
    });
    expect(body.startsWith(`${commentMarker('CI')}\n`)).toBe(true);
    expect(body).toContain('### cook-action: build\n\n| Status | ✅ succeeded |');
    expect(body).toContain(`[View the run](${RUN_URL})`);
    expect(body).toContain('updated 2025-01-02T03:04:05.000Z');
    expect(body).not.toMatch(/cut/);
  });

  it('without a run link still says when it was written', () => {
    const body = commentBody({ workflow: 'CI', shortSummary: 'hello' });
    expect(body).not.toContain('View the run');
    expect(body).toMatch(/updated \d{4}-\d\d-\d\dT/);
  });

  it('cuts a huge summary under the limit, at a line, and says so', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `| item_${i} | ❌ failed |`);
    const body = commentBody({ workflow: 'CI', shortSummary: lines.join('\n'), runUrl: RUN_URL });
    expect(body.length).toBeLessThanOrEqual(COMMENT_BODY_LIMIT);
    expect(body.length).toBeGreaterThan(COMMENT_BODY_LIMIT - 200);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toMatch(/summary was cut/);
    expect(body.startsWith(commentMarker('CI'))).toBe(true);
    expect(body).toContain(`[View the run](${RUN_URL})`);
    // Whole rows only: the line before the notice is a complete row.
    const kept = body.slice(0, body.indexOf('\n\n> [!NOTE]'));
    expect(kept.split('\n').at(-1)).toMatch(/^\| item_\d+ \| ❌ failed \|$/);
  });

  it('closes a code fence and <details> the cut left open, and never splits a character', () => {
    const summary =
      '<details><summary>log</summary>\n\n```\n' + '😀'.repeat(100_000) + '\n```\n</details>';
    const body = commentBody({ workflow: 'CI', shortSummary: summary, runUrl: RUN_URL });
    expect(body.length).toBeLessThanOrEqual(COMMENT_BODY_LIMIT);
    expect(body).toMatch(/summary was cut/);
    expect(body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    const beforeNotice = body.slice(0, body.indexOf('\n\n> [!NOTE]'));
    expect(beforeNotice.endsWith('\n```\n</details>')).toBe(true);
  });
});

describe('upsertComment against the REST stand-in', () => {
  it('creates the comment on the first run', async () => {
    const result = await run('CI', '### first run\n\nall good');

    expect(result.action).toBe('created');
    const comments = api.comments(PR);
    expect(comments).toHaveLength(1);
    expect(result.id).toBe(comments[0]!.id);
    expect(result.url).toBe(
      `https://github.com/${api.repository}/pull/${PR}#issuecomment-${result.id}`,
    );
    expect(comments[0]!.body).toContain(commentMarker('CI'));
    expect(comments[0]!.body).toContain('### first run\n\nall good');
    expect(comments[0]!.body).toContain(`[View the run](${RUN_URL})`);

    const [list, create] = api.requests;
    expect(list).toMatchObject({
      method: 'GET',
      path: `/repos/${api.repository}/issues/${PR}/comments`,
      query: { per_page: '100' },
      status: 200,
    });
    expect(create).toMatchObject({
      method: 'POST',
      path: `/repos/${api.repository}/issues/${PR}/comments`,
      status: 201,
    });
    expect(create!.authorization).toBe(`token ${api.token}`);
    expect(api.requests).toHaveLength(2);
  });

  it('updates that same comment in place on the next run', async () => {
    const first = await run('CI', 'run one');
    const second = await run('CI', 'run two');

    expect(second).toEqual({ action: 'updated', id: first.id, url: first.url });
    expect(withMarker('CI')).toHaveLength(1);
    expect(api.comments(PR)).toHaveLength(1);
    expect(api.comments(PR)[0]!.body).toContain('run two');
    expect(api.comments(PR)[0]!.body).not.toContain('run one');

    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /repos/${api.repository}/issues/${PR}/comments`,
      `PATCH /repos/${api.repository}/issues/comments/${first.id}`,
    ]);
    const patch = writes()[1]!;
    expect(patch.status).toBe(200);
    expect((patch.body as { body: string }).body).toContain('run two');
  });

  it('gives each workflow its own comment', async () => {
    const ci = await run('CI', 'ci summary');
    const ci2 = await run('CI 2', 'ci-2 summary');
    const dashed = await run('C--I', 'dashed summary');
    expect(new Set([ci.id, ci2.id, dashed.id]).size).toBe(3);
    expect([ci.action, ci2.action, dashed.action]).toEqual(['created', 'created', 'created']);

    const again = await run('CI 2', 'ci-2 summary, again');
    expect(again).toMatchObject({ action: 'updated', id: ci2.id });
    const byId = new Map(api.comments(PR).map((c) => [c.id, c.body]));
    expect(byId.get(ci.id)).toContain('ci summary');
    expect(byId.get(ci2.id)).toContain('ci-2 summary, again');
    expect(byId.get(dashed.id)).toContain('dashed summary');
    expect(api.comments(PR)).toHaveLength(3);
    for (const name of ['CI', 'CI 2', 'C--I']) expect(withMarker(name)).toHaveLength(1);
  });

  it('finds its comment on page 2, after 150 others', async () => {
    api.seed(
      PR,
      Array.from({ length: 150 }, (_, i) => `unrelated comment ${i}`),
    );
    const first = await run('CI', 'run one');
    expect(first.action).toBe('created');
    // Then more comments by people, so the marker sits in the middle of three pages.
    api.seed(
      PR,
      Array.from({ length: 60 }, (_, i) => `later comment ${i}`),
    );
    api.requests.length = 0;

    const second = await run('CI', 'run two');

    expect(second).toMatchObject({ action: 'updated', id: first.id });
    expect(api.comments(PR)).toHaveLength(211);
    expect(withMarker('CI')).toHaveLength(1);
    const pages = api.requests.filter((r) => r.method === 'GET').map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2']);
    expect(writes().map((r) => r.method)).toEqual(['PATCH']);
  });

  it('reads every page before deciding there is no comment yet', async () => {
    api.seed(
      PR,
      Array.from({ length: 250 }, (_, i) => `unrelated comment ${i}`),
    );
    const result = await run('CI', 'only run');

    expect(result.action).toBe('created');
    const gets = api.requests.filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(gets.every((r) => r.query.per_page === '100')).toBe(true);
    expect(api.comments(PR).at(-1)!.id).toBe(result.id);
  });

  it('edits the first of two comments holding the marker, and only it', async () => {
    const [older, newer] = api.seed(PR, [
      commentBody({ workflow: 'CI', shortSummary: 'older' }),
      commentBody({ workflow: 'CI', shortSummary: 'newer' }),
    ]);
    const result = await run('CI', 'latest');
    expect(result).toMatchObject({ action: 'updated', id: older });
    const byId = new Map(api.comments(PR).map((c) => [c.id, c.body]));
    expect(byId.get(older!)).toContain('latest');
    expect(byId.get(newer!)).toContain('newer');
  });

  it('ignores a marker of a workflow whose name only starts the same', async () => {
    api.seed(PR, [commentBody({ workflow: 'CI nightly', shortSummary: 'nightly' })]);
    const result = await run('CI', 'ci');
    expect(result.action).toBe('created');
    expect(api.comments(PR)).toHaveLength(2);
  });

  it('a 403 names the permission, the repository and the pull request, never the token', async () => {
    await run('CI', 'run one');
    api.forbid(true);

    const error = await run('CI', 'run two').then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(CommentError);
    const { message, status } = error as CommentError;
    expect(status).toBe(403);
    expect(message).toContain('`pull-requests: write`');
    expect(message).toContain('`issues: write`');
    expect(message).toContain(`#${PR}`);
    expect(message).toContain(api.repository);
    expect(message).toContain('Resource not accessible by integration');
    expect(message).not.toContain(api.token);
    expect(String((error as Error).stack)).not.toContain(api.token);
    expect(api.comments(PR)[0]!.body).toContain('run one');
  });

  it('a 403 on the first run creates nothing and says the same', async () => {
    api.forbid(true);
    await expect(run('CI', 'run one')).rejects.toThrow(
      /pull request #42 of octo-org\/hello-world.*403.*`pull-requests: write`/,
    );
    expect(api.comments(PR)).toHaveLength(0);
    expect(writes().map((r) => r.status)).toEqual([403]);
  });

  it('a 404 for an unknown pull request names it and the permission', async () => {
    const error = (await run('CI', 'x', { pullRequest: 999 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(CommentError);
    expect(error.message).toMatch(/#999 of octo-org\/hello-world/);
    expect(error.message).toMatch(/404/);
    expect(error.message).toContain('`pull-requests: write`');
    expect(error.message).not.toContain(api.token);
  });

  it('a refused token is named as such, and not shown', async () => {
    const token = 'ghp_notTheRightToken_abcdef0123456789';
    const error = (await upsertComment({
      token,
      apiUrl: api.url,
      repository: api.repository,
      pullRequest: PR,
      workflow: 'CI',
      body: 'hello',
    }).catch((e: unknown) => e)) as CommentError;
    expect(error).toBeInstanceOf(CommentError);
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/Bad credentials/);
    expect(error.message).toContain('`github-token`');
    expect(error.message).not.toContain(token);
    expect(api.requests[0]!.authorization).toBe(`token ${token}`);
  });

  it('no answer at all is said plainly', async () => {
    const url = api.url;
    await api.close();
    const error = (await upsertComment({
      token: 'secret-token-value',
      apiUrl: url,
      repository: 'octo-org/hello-world',
      pullRequest: PR,
      workflow: 'CI',
      body: 'hello',
    }).catch((e: unknown) => e)) as CommentError;
    expect(error).toBeInstanceOf(CommentError);
    expect(error.message).toContain(`no answer from ${url}`);
    expect(error.message).not.toContain('secret-token-value');
    api = await GitHubApi.start();
  });

  it('puts the marker first when the body lacks it, so the next run finds it', async () => {
    const options = {
      token: api.token,
      apiUrl: api.url,
      repository: api.repository,
      pullRequest: PR,
      workflow: 'CI',
    };
    const first = await upsertComment({ ...options, body: 'plain one' });
    const second = await upsertComment({ ...options, body: 'plain two' });
    expect(second).toMatchObject({ action: 'updated', id: first.id });
    expect(api.comments(PR)[0]!.body).toBe(`${commentMarker('CI')}\nplain two`);
  });

  it('rejects a repository that is not owner/name before calling GitHub', async () => {
    await expect(
      upsertComment({
        token: api.token,
        apiUrl: api.url,
        repository: 'hello-world',
        pullRequest: PR,
        workflow: 'CI',
        body: 'x',
      }),
    ).rejects.toThrow(/not owner\/name/);
    expect(api.requests).toHaveLength(0);
  });

  it('a huge summary is cut so GitHub takes it, and the comment says so', async () => {
    const huge = Array.from({ length: 30_000 }, (_, i) => `- item_${i}: failed`).join('\n');
    // The stand-in refuses what GitHub refuses: the whole summary is too long.
    await expect(
      upsertComment({
        token: api.token,
        apiUrl: api.url,
        repository: api.repository,
        pullRequest: PR,
        workflow: 'CI',
        body: `${commentMarker('CI')}\n${huge}`,
      }),
    ).rejects.toThrow(/422.*Validation Failed/);

    const result = await run('CI', huge);
    expect(result.action).toBe('created');
    const stored = api.comments(PR)[0]!.body;
    expect(stored.length).toBeLessThan(65_536);
    expect(stored).toMatch(/summary was cut/);
    expect(stored).toContain('- item_0: failed');
    expect(stored).not.toContain('- item_29999: failed');
    expect(stored).toContain(`[View the run](${RUN_URL})`);
  });
});

/**
 * The pull-request comment: one per workflow per pull request, found again on every run by a
 * hidden marker and edited in place, holding the run's short summary and a link to the run.
 *
 * @actions/github (octokit) is loaded on first use, not at start: most runs never comment.
 */

/** GitHub refuses a comment body longer than 65,536 characters; stay well under. */
export const COMMENT_BODY_LIMIT = 65_000;

/**
 * The hidden HTML comment that names this workflow's comment:
 * `<!-- cook-action:comment workflow="<name>" -->`.
 *
 * The name is percent-encoded where it could end the HTML comment or the quoted value (`%`, `<`,
 * `>`, `"`, control characters, and any `-` followed by another `-`), so the marker never holds
 * `--` or `>`, and two different names never share a marker (decoding gives the name back).
 */
export function commentMarker(workflow: string): string {
  const safe = workflow.replace(
    // eslint-disable-next-line no-control-regex
    /[%<>"\u0000-\u001f\u007f]|-(?=-)/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `<!-- cook-action:comment workflow="${safe}" -->`;
}

export interface CommentBodyInput {
  readonly workflow: string;
  /** The run's short summary, Markdown. */
  readonly shortSummary: string;
  /** The run's page. */
  readonly runUrl?: string;
  /** When the comment is written; now when unset. */
  readonly updatedAt?: Date;
}

/**
 * The comment's Markdown: marker, short summary, then a line with the link to the run and the
 * time it was written. A summary too long for GitHub is cut (at a line, closing an open code
 * fence or `<details>`) so the whole body stays within COMMENT_BODY_LIMIT, and says so.
 */
export function commentBody(input: CommentBodyInput): string {
  const updated = `updated ${(input.updatedAt ?? new Date()).toISOString()}`;
  const footer = input.runUrl
    ? `[View the run](${linkDestination(input.runUrl)}) · ${updated}`
    : `_${updated}_`;
  const head = `${commentMarker(input.workflow)}\n`;
  const tail = `\n\n${footer}\n`;
  const summary = input.shortSummary.trimEnd();
  const budget = COMMENT_BODY_LIMIT - head.length - tail.length;
  return (
    head + (summary.length <= budget ? summary : cutSummary(summary, budget, input.runUrl)) + tail
  );
}

/** The summary cut to at most `budget` characters, notice included. */
function cutSummary(summary: string, budget: number, runUrl: string | undefined): string {
  const notice =
    `\n\n> [!NOTE]\n> The summary was cut to fit GitHub's limit on comment size; ` +
    (runUrl ? 'the whole of it is on the run’s page.' : 'the whole of it is in the job summary.');
  let room = budget - notice.length;
  for (;;) {
    if (room <= 0) return notice.trimStart().slice(0, Math.max(0, budget));
    let kept = summary.slice(0, room);
    // Never split a surrogate pair.
    if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
    // End at a line when one is near, so no table row or word is left half written.
    const line = kept.lastIndexOf('\n');
    if (line >= room / 2) kept = kept.slice(0, line);
    const cut = kept.trimEnd() + closers(kept);
    if (cut.length + notice.length <= budget) return cut + notice;
    room -= cut.length + notice.length - budget;
  }
}

/** What the cut-off text left open and would otherwise swallow the rest of the comment. */
function closers(text: string): string {
  let out = '';
  const fences = text.match(/^ {0,3}(`{3,}|~{3,})/gm) ?? [];
  if (fences.length % 2 === 1) out += `\n${fences.at(-1)!.trim()}`;
  const open = (text.match(/<details\b/gi) ?? []).length;
  const closed = (text.match(/<\/details\s*>/gi) ?? []).length;
  out += '\n</details>'.repeat(Math.max(0, open - closed));
  return out;
}

/** A URL safe as a Markdown link's destination (no spaces, parentheses or angle brackets). */
function linkDestination(url: string): string {
  return url.replace(
    /[\s()<>]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

export interface UpsertCommentOptions {
  readonly token: string;
  /** The REST API's address, e.g. https://api.github.com (GITHUB_API_URL). */
  readonly apiUrl: string;
  /** owner/name */
  readonly repository: string;
  readonly pullRequest: number;
  readonly workflow: string;
  /** The whole comment, as commentBody makes it; the marker is put first if it is missing. */
  readonly body: string;
}

export interface UpsertedComment {
  readonly action: 'created' | 'updated';
  readonly id: number;
  /** The comment's page (html_url). */
  readonly url: string;
}

/** A comment GitHub would not let us read or write; the message says what is needed. */
export class CommentError extends Error {
  constructor(
    message: string,
    /** The HTTP status GitHub answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CommentError';
  }
}

type GitHubModule = typeof import('@actions/github');
let github: Promise<GitHubModule> | undefined;

/**
 * Creates this workflow's comment on the pull request, or edits it when an earlier run made one:
 * every page of the pull request's comments is searched for the marker, the first comment
 * holding it is edited.
 */
export async function upsertComment(options: UpsertCommentOptions): Promise<UpsertedComment> {
  const [owner, repo, ...rest] = options.repository.split('/');
  if (!owner || !repo || rest.length > 0) {
    throw new CommentError(
      `cannot comment: repository ${JSON.stringify(options.repository)} is not owner/name`,
    );
  }
  if (!Number.isSafeInteger(options.pullRequest) || options.pullRequest < 1) {
    throw new CommentError(`cannot comment: ${options.pullRequest} is not a pull request number`);
  }
  const where = { repository: options.repository, pullRequest: options.pullRequest };
  const marker = commentMarker(options.workflow);
  const body = options.body.includes(marker) ? options.body : `${marker}\n${options.body}`;

  github ??= import('@actions/github');
  const { getOctokit } = await github;
  const octokit = getOctokit(options.token, { baseUrl: options.apiUrl.replace(/\/+$/, '') });
  const issue = { owner, repo, issue_number: options.pullRequest };

  let existing: number | undefined;
  try {
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
      ...issue,
      per_page: 100,
    });
    for await (const { data } of pages) {
      existing = data.find((comment) => comment.body?.includes(marker))?.id;
      if (existing !== undefined) break;
    }
  } catch (error) {
    throw explain(error, 'read the comments of', where, options);
  }

  try {
    if (existing !== undefined) {
      const { data } = await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: existing,
        body,
      });
      return { action: 'updated', id: data.id, url: data.html_url };
    }
    const { data } = await octokit.rest.issues.createComment({ ...issue, body });
    return { action: 'created', id: data.id, url: data.html_url };
  } catch (error) {
    throw explain(error, 'write the comment on', where, options);
  }
}

/** An octokit failure as a CommentError saying what to do, with the token never in it. */
function explain(
  error: unknown,
  doing: string,
  where: { repository: string; pullRequest: number },
  options: { token: string; apiUrl: string },
): CommentError {
  const target = `pull request #${where.pullRequest} of ${where.repository}`;
  const response =
    typeof error === 'object' && error !== null
      ? (error as { response?: { status?: unknown; data?: unknown } }).response
      : undefined;
  if (typeof response?.status !== 'number') {
    // No answer at all: the address is wrong, or the network failed.
    const reason = error instanceof Error ? error.message : String(error);
    return new CommentError(
      scrub(`could not ${doing} ${target}: no answer from ${options.apiUrl}: ${reason}`, options),
    );
  }
  const status = response.status;
  const answer = (response.data as { message?: unknown } | undefined)?.message;
  const said = typeof answer === 'string' && answer !== '' ? ` (${answer})` : '';
  const permission =
    'the token needs `pull-requests: write` (or `issues: write`) permission on the repository';
  const prefix = `could not ${doing} ${target}: GitHub answered ${status}${said}`;
  let message: string;
  if ((status === 403 || status === 429) && /rate limit/i.test(said)) {
    message = `${prefix}: the token has made too many requests; try again later`;
  } else if (status === 403) {
    message = `${prefix}; ${permission}`;
  } else if (status === 404) {
    message = `${prefix}: the repository or the pull request does not exist, or the token cannot see it; ${permission}`;
  } else if (status === 401) {
    message = `${prefix}: the token was refused; give a valid \`github-token\``;
  } else {
    message = prefix;
  }
  return new CommentError(scrub(message, options), status);
}

function scrub(text: string, { token }: { token: string }): string {
  return token.trim() === '' ? text : text.split(token).join('***');
}

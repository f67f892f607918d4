/**
 * A local stand-in for the parts of GitHub's REST API that the pull-request comment uses, on
 * 127.0.0.1 at a random port, answering as api.github.com does:
 *
 * - `GET /repos/{owner}/{repo}/issues/{n}/comments`: `page` / `per_page` (default 30, at most
 *   100), oldest first, and a `Link` header with `rel="next"`, `rel="last"` (and `first`, `prev`).
 * - `POST /repos/{owner}/{repo}/issues/{n}/comments`: 201 with the new comment.
 * - `PATCH /repos/{owner}/{repo}/issues/comments/{id}`: 200 with the edited comment.
 *
 * Every call needs `Authorization: token <t>` or `Bearer <t>` (401 otherwise, in GitHub's error
 * shape `{message, documentation_url, status}`). 404 for an unknown repository, pull request or
 * comment; 422 for a missing body or one over 65,536 characters. `forbid(true)` makes writes
 * answer 403 "Resource not accessible by integration", as GitHub does for a GITHUB_TOKEN without
 * write permission (reading still works, as it does there).
 */
import http from 'node:http';
import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';

const DOCS = 'https://docs.github.com/rest/issues/comments';
/** GitHub's limit on a comment body, in characters. */
const BODY_LIMIT = 65_536;

export interface StoredComment {
  readonly id: number;
  body: string;
  readonly user: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  readonly authorization: string | undefined;
  /** The status answered. */
  status: number;
}

export interface GitHubApiOptions {
  /** owner/name; the only repository that exists. */
  readonly repository?: string;
  /** The tokens accepted; any other answers 401 "Bad credentials". */
  readonly tokens?: readonly string[];
  /** The login comments written through the API are by. */
  readonly login?: string;
}

export class GitHubApi {
  readonly repository: string;
  readonly requests: RecordedRequest[] = [];
  readonly #tokens: ReadonlySet<string>;
  readonly #login: string;
  readonly #pulls = new Map<number, StoredComment[]>();
  readonly #server: http.Server;
  #forbidden = false;
  #nextId = 2_000_000_001;

  private constructor(server: http.Server, options: GitHubApiOptions) {
    this.#server = server;
    this.repository = options.repository ?? 'octo-org/hello-world';
    this.#tokens = new Set(options.tokens ?? ['ghs_standInToken0123456789']);
    this.#login = options.login ?? 'github-actions[bot]';
  }

  static async start(options: GitHubApiOptions = {}): Promise<GitHubApi> {
    const api: GitHubApi = new GitHubApi(
      http.createServer((request, response) => {
        api.#handle(request, response).catch((error: unknown) => {
          send(response, 500, { message: (error as Error).message, documentation_url: DOCS });
        });
      }),
      options,
    );
    await new Promise<void>((resolve) => api.#server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** The API's base address, like https://api.github.com (no trailing slash). */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** A token the stand-in accepts. */
  get token(): string {
    return [...this.#tokens][0]!;
  }

  /** Opens a pull request (with no comments) unless it is open already. */
  openPullRequest(pr: number): void {
    if (!this.#pulls.has(pr)) this.#pulls.set(pr, []);
  }

  /** Adds comments, by someone else, to a pull request (opening it); returns their ids. */
  seed(pr: number, bodies: readonly string[], user = 'octocat'): number[] {
    this.openPullRequest(pr);
    return bodies.map((body) => this.#add(pr, body, user).id);
  }

  /** The pull request's comments, oldest first (live objects). */
  comments(pr: number): readonly StoredComment[] {
    return this.#pulls.get(pr) ?? [];
  }

  /** While on, every write answers 403 as for a token without write permission. */
  forbid(on: boolean): void {
    this.#forbidden = on;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #add(pr: number, body: string, user: string): StoredComment {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const comment: StoredComment = {
      id: this.#nextId++,
      body,
      user,
      createdAt: now,
      updatedAt: now,
    };
    this.#pulls.get(pr)!.push(comment);
    return comment;
  }

  #json(comment: StoredComment, pr: number): Record<string, unknown> {
    return {
      id: comment.id,
      node_id: `IC_stand-in${comment.id}`,
      url: `${this.url}/repos/${this.repository}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${this.repository}/pull/${pr}#issuecomment-${comment.id}`,
      issue_url: `${this.url}/repos/${this.repository}/issues/${pr}`,
      body: comment.body,
      user: {
        login: comment.user,
        id: 41898282,
        type: comment.user.endsWith('[bot]') ? 'Bot' : 'User',
      },
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: comment.user.endsWith('[bot]') ? 'NONE' : 'MEMBER',
    };
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const raw = (await readBody(request)).toString('utf8');
    const method = request.method ?? 'GET';
    let body: unknown;
    let badJson = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
      }
    }
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: request.headers.authorization,
      status: 0,
    };
    this.requests.push(record);
    const answer = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      send(response, status, data, headers);
    };

    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!auth) {
      return answer(401, error('Requires authentication', 'https://docs.github.com/rest', 401));
    }
    if (!this.#tokens.has(auth[1]!)) {
      return answer(401, error('Bad credentials', 'https://docs.github.com/rest', 401));
    }
    if (badJson) {
      return answer(400, error('Problems parsing JSON', DOCS, 400));
    }

    const prefix = `/repos/${this.repository}/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    const onIssue = rest === undefined ? null : /^issues\/(\d+)\/comments$/.exec(rest);
    const onComment = rest === undefined ? null : /^issues\/comments\/(\d+)$/.exec(rest);

    if (onIssue && method === 'GET') {
      const pr = Number(onIssue[1]);
      const comments = this.#pulls.get(pr);
      if (!comments) return answer(404, error('Not Found', `${DOCS}#list-issue-comments`, 404));
      const perPage = Math.min(100, Math.max(1, whole(url.searchParams.get('per_page')) ?? 30));
      const page = Math.max(1, whole(url.searchParams.get('page')) ?? 1);
      const last = Math.max(1, Math.ceil(comments.length / perPage));
      const slice = comments.slice((page - 1) * perPage, page * perPage);
      const link = (n: number) => {
        const target = new URL(url);
        target.searchParams.set('per_page', String(perPage));
        target.searchParams.set('page', String(n));
        return `<${target.toString()}>`;
      };
      const links: string[] = [];
      if (page > 1) links.push(`${link(Math.min(page - 1, last))}; rel="prev"`);
      if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
      if (page > 1) links.push(`${link(1)}; rel="first"`);
      return answer(
        200,
        slice.map((c) => this.#json(c, pr)),
        links.length > 0 ? { link: links.join(', ') } : {},
      );
    }

    if (onIssue && method === 'POST') {
      const pr = Number(onIssue[1]);
      if (!this.#pulls.has(pr)) {
        return answer(404, error('Not Found', `${DOCS}#create-an-issue-comment`, 404));
      }
      if (this.#forbidden) return answer(403, forbidden(`${DOCS}#create-an-issue-comment`));
      const invalid = validate(body);
      if (invalid) return answer(422, invalid);
      const comment = this.#add(pr, (body as { body: string }).body, this.#login);
      return answer(201, this.#json(comment, pr), {
        location: `${this.url}/repos/${this.repository}/issues/comments/${comment.id}`,
      });
    }

    if (onComment && method === 'PATCH') {
      const id = Number(onComment[1]);
      const found = [...this.#pulls.entries()]
        .map(([pr, comments]) => ({ pr, comment: comments.find((c) => c.id === id) }))
        .find((entry) => entry.comment !== undefined);
      if (!found?.comment) {
        return answer(404, error('Not Found', `${DOCS}#update-an-issue-comment`, 404));
      }
      if (this.#forbidden) return answer(403, forbidden(`${DOCS}#update-an-issue-comment`));
      const invalid = validate(body);
      if (invalid) return answer(422, invalid);
      found.comment.body = (body as { body: string }).body;
      found.comment.updatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      return answer(200, this.#json(found.comment, found.pr));
    }

    return answer(404, error('Not Found', 'https://docs.github.com/rest', 404));
  }
}

function error(message: string, documentationUrl: string, status: number) {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

function forbidden(documentationUrl: string) {
  return error('Resource not accessible by integration', documentationUrl, 403);
}

/** GitHub's 422 for a missing or oversized body; undefined when the body is fine. */
function validate(body: unknown): Record<string, unknown> | undefined {
  const text = (body as { body?: unknown } | undefined)?.body;
  const failed = (detail: Record<string, unknown>) => ({
    message: 'Validation Failed',
    errors: [{ resource: 'IssueComment', field: 'body', ...detail }],
    documentation_url: DOCS,
    status: '422',
  });
  if (typeof text !== 'string' || text === '') return failed({ code: 'missing_field' });
  if ([...text].length > BODY_LIMIT) {
    return failed({
      code: 'custom',
      message: `body is too long (maximum is ${BODY_LIMIT} characters)`,
    });
  }
  return undefined;
}

function whole(text: string | null): number | undefined {
  return text !== null && /^\d+$/.test(text) ? Number(text) : undefined;
}

function send(
  response: http.ServerResponse,
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(data);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** The whole request body. */
const readBody = (request: http.IncomingMessage): Promise<Buffer> => buffer(request);

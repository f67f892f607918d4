/**
 * A local stand-in for GitHub's artifact service, speaking the protocol @actions/artifact 6 uses
 * (test/ground/README.md): Twirp JSON calls for CreateArtifact, FinalizeArtifact, ListArtifacts and
 * GetSignedArtifactURL, and a blob store for the signed URLs (Azure's block upload, `comp=block`
 * then `comp=blocklist`; a plain GET of the zip to download). One instance is one workflow run:
 * every job of it sees the artifacts every other job uploaded.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

export interface StoredArtifact {
  readonly id: number;
  readonly name: string;
  readonly runBackendId: string;
  readonly jobBackendId: string;
  /** The zip as uploaded. */
  readonly zip: Buffer;
  readonly hash: string;
  readonly createdAt: Date;
  /**
   * The expiry CreateArtifact carried, as sent (RFC 3339 text): @actions/artifact turns an
   * upload's retentionDays into now + that many days; absent when none was given.
   */
  readonly expiresAt?: string;
}

interface Pending {
  readonly name: string;
  readonly runBackendId: string;
  readonly jobBackendId: string;
  readonly blocks: Map<string, Buffer>;
  readonly expiresAt?: string;
  zip?: Buffer;
}

export class ArtifactService {
  readonly artifacts: StoredArtifact[] = [];
  readonly #pending = new Map<string, Pending>();
  readonly #server: http.Server;
  #nextId = 1;
  readonly runBackendId = randomBytes(8).toString('hex');

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<ArtifactService> {
    const service: ArtifactService = new ArtifactService(
      http.createServer((request, response) => {
        service.#handle(request, response).catch((error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ code: 'internal', msg: (error as Error).message }));
        });
      }),
    );
    await new Promise<void>((resolve) => service.#server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/`;
  }

  /** The step env one job of this run needs: its own job id, the run's id, the address. */
  envForJob(job: string): Record<string, string> {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = [
      encode({ alg: 'none', typ: 'JWT' }),
      encode({ scp: `Actions.GenericRead:x Actions.Results:${this.runBackendId}:${job}` }),
      'signature',
    ].join('.');
    return { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: this.url };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const body = await readBody(request);
    if (request.method === 'POST' && url.pathname.startsWith(TWIRP)) {
      const call = url.pathname.slice(TWIRP.length);
      const answer = this.#twirp(call, JSON.parse(body.toString('utf8') || '{}'));
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
      return;
    }
    const upload = /^\/upload\/([0-9a-f]+)$/.exec(url.pathname);
    if (request.method === 'PUT' && upload) {
      const pending = this.#pending.get(upload[1]!);
      if (!pending) return notFound(response);
      const comp = url.searchParams.get('comp');
      if (comp === 'block') {
        pending.blocks.set(url.searchParams.get('blockid') ?? '', body);
      } else if (comp === 'blocklist') {
        const ids = [
          ...body.toString('utf8').matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]*)</g),
        ].map((m) => m[1]!);
        pending.zip = Buffer.concat(ids.map((id) => pending.blocks.get(id) ?? Buffer.alloc(0)));
      } else {
        pending.zip = body;
      }
      response.writeHead(201, { etag: '"0x1"', 'x-ms-request-id': randomBytes(8).toString('hex') });
      response.end();
      return;
    }
    const download = /^\/download\/(\d+)\.zip$/.exec(url.pathname);
    if (request.method === 'GET' && download) {
      const artifact = this.artifacts.find((a) => a.id === Number(download[1]));
      if (!artifact) return notFound(response);
      response.writeHead(200, {
        'content-type': 'application/zip',
        'content-length': artifact.zip.length,
      });
      response.end(artifact.zip);
      return;
    }
    notFound(response);
  }

  #twirp(call: string, request: Record<string, unknown>): { status: number; body: unknown } {
    const run = String(request.workflow_run_backend_id ?? request.workflowRunBackendId ?? '');
    const job = String(
      request.workflow_job_run_backend_id ?? request.workflowJobRunBackendId ?? '',
    );
    const name = String(request.name ?? '');
    switch (call) {
      case 'CreateArtifact': {
        if (this.artifacts.some((a) => a.runBackendId === run && a.name === name)) {
          return {
            status: 409,
            body: {
              code: 'already_exists',
              msg: `an artifact with this name already exists on the workflow run`,
            },
          };
        }
        const key = randomBytes(8).toString('hex');
        const expiresAt = request.expires_at ?? request.expiresAt;
        this.#pending.set(key, {
          name,
          runBackendId: run,
          jobBackendId: job,
          blocks: new Map(),
          ...(expiresAt === undefined ? {} : { expiresAt: String(expiresAt) }),
        });
        return {
          status: 200,
          body: { ok: true, signed_upload_url: `${this.url}upload/${key}?sig=stand-in` },
        };
      }
      case 'FinalizeArtifact': {
        const entry = [...this.#pending.entries()].find(
          ([, p]) => p.name === name && p.runBackendId === run && p.zip !== undefined,
        );
        if (!entry)
          return { status: 404, body: { code: 'not_found', msg: `no upload for ${name}` } };
        this.#pending.delete(entry[0]);
        const id = this.#nextId++;
        this.artifacts.push({
          id,
          name,
          runBackendId: run,
          jobBackendId: entry[1].jobBackendId,
          zip: entry[1].zip!,
          hash: String(request.hash ?? ''),
          createdAt: new Date(),
          ...(entry[1].expiresAt === undefined ? {} : { expiresAt: entry[1].expiresAt }),
        });
        return { status: 200, body: { ok: true, artifact_id: String(id) } };
      }
      case 'ListArtifacts': {
        const nameFilter = request.name_filter ?? request.nameFilter;
        const idFilter = request.id_filter ?? request.idFilter;
        const found = this.artifacts.filter(
          (a) =>
            a.runBackendId === run &&
            (nameFilter === undefined || a.name === nameFilter) &&
            (idFilter === undefined || String(a.id) === String(idFilter)),
        );
        return {
          status: 200,
          body: {
            artifacts: found.map((a) => ({
              workflow_run_backend_id: a.runBackendId,
              workflow_job_run_backend_id: a.jobBackendId,
              database_id: String(a.id),
              name: a.name,
              size: String(a.zip.length),
              created_at: a.createdAt.toISOString(),
              ...(a.hash ? { digest: a.hash } : {}),
            })),
          },
        };
      }
      case 'GetSignedArtifactURL': {
        const artifact = this.artifacts.find((a) => a.runBackendId === run && a.name === name);
        if (!artifact)
          return { status: 404, body: { code: 'not_found', msg: `no artifact ${name}` } };
        return { status: 200, body: { signed_url: `${this.url}download/${artifact.id}.zip` } };
      }
      default:
        return { status: 404, body: { code: 'bad_route', msg: `no method ${call}` } };
    }
  }
}

function notFound(response: http.ServerResponse): void {
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ code: 'not_found', msg: 'not found' }));
}

/** The whole request body. */
const readBody = (request: http.IncomingMessage): Promise<Buffer> => buffer(request);

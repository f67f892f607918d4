/**
 * A local stand-in for the Anthropic Messages API, for the real Claude Code CLI (reached through
 * ANTHROPIC_BASE_URL). Claude cannot run here; the CLI can, so this answers it as the API would:
 * `POST /v1/messages` streamed as server-sent events (message_start, content_block_start/delta/
 * stop, message_delta with the stop reason and usage, message_stop), a JSON message when a
 * request does not ask to stream, and `HEAD /api/hello` (the CLI's reachability check). What it
 * answers is a small agent: it writes `hello.txt` in the working directory the CLI announces in
 * its system prompt (the Write tool), commits it (the Bash tool), then ends the turn. Every
 * request is recorded as it arrived, so tests check the protocol against what the real CLI sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** What each answer reports as used: the stand-in's own bill, to compare with what is reported. */
export const SERVED_USAGE = {
  input_tokens: 1200,
  output_tokens: 85,
  cache_creation_input_tokens: 300,
  cache_read_input_tokens: 4000,
} as const;

export const HELLO_FILE = 'hello.txt';
export const HELLO_TEXT = 'hello from claude\n';
export const COMMIT_MESSAGE = 'claude: add hello.txt';

export interface AnthropicStandIn {
  /** The base URL for a client on `host` (ANTHROPIC_BASE_URL). */
  readonly url: (host: string) => string;
  readonly requests: RecordedRequest[];
  /** Messages answered (each one billed SERVED_USAGE). */
  readonly answered: () => number;
  close(): Promise<void>;
}

interface MessagesBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: unknown }[];
  system?: unknown;
}

function toolResults(body: MessagesBody): number {
  return (JSON.stringify(body.messages ?? []).match(/"type":"tool_result"/g) ?? []).length;
}

function workingDirectory(raw: string): string | undefined {
  return /Primary working directory: ([^\s"\\]+)/.exec(raw)?.[1];
}

type Block =
  | { kind: 'tool'; id: string; name: string; input: Record<string, unknown> }
  | { kind: 'text'; text: string };

/** The agent's next move, from how far the conversation has got. */
function nextBlock(raw: string, body: MessagesBody, n: number): Block {
  const done = toolResults(body);
  const cwd = workingDirectory(raw);
  if (cwd && done === 0) {
    return {
      kind: 'tool',
      id: `toolu_standin_${n}_write`,
      name: 'Write',
      input: { file_path: `${cwd}/${HELLO_FILE}`, content: HELLO_TEXT },
    };
  }
  if (cwd && done === 1) {
    return {
      kind: 'tool',
      id: `toolu_standin_${n}_bash`,
      name: 'Bash',
      input: {
        command: `git add ${HELLO_FILE} && git commit -q -m '${COMMIT_MESSAGE}'`,
        description: 'Commit hello.txt',
      },
    };
  }
  return { kind: 'text', text: 'Added hello.txt and committed it.' };
}

function events(model: string, id: string, block: Block): object[] {
  const usage = { ...SERVED_USAGE };
  const start = {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  };
  const body =
    block.kind === 'tool'
      ? [
          {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
          },
          // The input in two pieces, as the API streams partial JSON.
          ...splitInTwo(JSON.stringify(block.input)).map((partial_json) => ({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'input_json_delta', partial_json },
          })),
        ]
      : [
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: block.text },
          },
        ];
  return [
    start,
    ...body,
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: block.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    },
    { type: 'message_stop' },
  ];
}

function splitInTwo(text: string): string[] {
  const half = Math.floor(text.length / 2);
  return [text.slice(0, half), text.slice(half)];
}

/** Starts the stand-in on `listenHost` (all addresses by default), on a free port. */
export async function startAnthropicStandIn(listenHost = '0.0.0.0'): Promise<AnthropicStandIn> {
  const requests: RecordedRequest[] = [];
  let answered = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw,
      });
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (req.method === 'HEAD' && url.pathname === '/api/hello') {
        res.writeHead(200).end();
        return;
      }
      if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            type: 'error',
            error: { type: 'not_found_error', message: url.pathname },
          }),
        );
        return;
      }
      const body = JSON.parse(raw) as MessagesBody;
      answered += 1;
      const id = `msg_standin_${answered}`;
      const model = body.model ?? 'claude-stand-in';
      const block = nextBlock(raw, body, answered);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${id}` });
        res.end(
          JSON.stringify({
            id,
            type: 'message',
            role: 'assistant',
            model,
            content: [
              block.kind === 'tool'
                ? { type: 'tool_use', id: block.id, name: block.name, input: block.input }
                : { type: 'text', text: block.text },
            ],
            stop_reason: block.kind === 'tool' ? 'tool_use' : 'end_turn',
            stop_sequence: null,
            usage: { ...SERVED_USAGE },
          }),
        );
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'request-id': `req_${id}`,
      });
      for (const event of events(model, id, block)) {
        res.write(`event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (host) => `http://${host}:${port}`,
    requests,
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

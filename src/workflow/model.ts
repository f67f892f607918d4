/**
 * Prodigy workflow files → typed models (Prodigy 0.4.4, as read from its source). Pure: the text
 * in, a model or a WorkflowError that names the file, line and column out.
 *
 * Steps are kept as Prodigy wrote them: cook-action never runs a step itself, it only hands steps
 * on to Prodigy in derived workflows, so their own keys are Prodigy's to judge. What the action
 * itself relies on (the map phase, setup, reduce) is checked here.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';

/** A Prodigy step (`shell:`, `claude:`, `write_file:`, ...), as written. */
export type Step = Readonly<Record<string, unknown>>;

export interface StandardWorkflow {
  readonly kind: 'standard';
  readonly name?: string;
  readonly commands: readonly Step[];
  readonly env: Readonly<Record<string, string>>;
  /** Every top-level key as written, for derived workflows. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface SetupPhase {
  readonly commands: readonly Step[];
  readonly timeoutSeconds?: number;
  /** `capture_outputs` as written; set means later phases read variables from setup. */
  readonly captureOutputs?: unknown;
}

export interface MapPhase {
  /** A file (relative to the repository, or absolute) or a shell command. */
  readonly input: string;
  /** Empty means the input itself. */
  readonly jsonPath: string;
  readonly filter?: string;
  readonly sortBy?: string;
  readonly maxItems?: number;
  readonly offset?: number;
  /** A number, or a `$VAR` reference Prodigy resolves from the environment. */
  readonly maxParallel: number | string;
  readonly agentTemplate: readonly Step[];
  /** Where each key's value is written, for errors found later (a filter Prodigy would refuse). */
  readonly positions: Readonly<Record<string, Position>>;
  /** The `map:` block as written, for derived workflows. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface MapReduceWorkflow {
  readonly kind: 'mapreduce';
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly setup?: SetupPhase;
  readonly map: MapPhase;
  readonly reduce?: readonly Step[];
  readonly raw: Readonly<Record<string, unknown>>;
}

export type Workflow = StandardWorkflow | MapReduceWorkflow;

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A workflow that cannot be used, at a place in its file. */
export class WorkflowError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}:${column}: ${problem}`);
    this.name = 'WorkflowError';
  }
}

/**
 * Prodigy's own test for a MapReduce file: the text says `mode: mapreduce` (Prodigy 0.4.4's
 * source).
 */
export function isMapReduceText(text: string): boolean {
  return text.includes('mode: mapreduce') || text.includes('mode: "mapreduce"');
}

/** Parses a workflow file's text; `file` is only used to name it in errors. */
export function parseWorkflow(file: string, text: string): Workflow {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const where = (node: Node | null | undefined): Position => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return { line, column: col };
  };
  const at = (node: Node | null | undefined, problem: string): WorkflowError => {
    const { line, column } = where(node);
    return new WorkflowError(file, line, column, problem);
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const { line, col } = lines.linePos(firstError.pos[0]);
    throw new WorkflowError(file, line, col, `not valid YAML: ${firstLine(firstError.message)}`);
  }
  const root = doc.contents;

  if (isSeq(root)) {
    return {
      kind: 'standard',
      commands: steps(root, 'the workflow', at),
      env: {},
      raw: { commands: root.toJSON() as unknown },
    };
  }
  if (!isMap(root)) {
    throw at(root, 'expected a workflow: a list of steps, or a mapping with `commands`');
  }
  const raw = root.toJSON() as Record<string, unknown>;
  const env = envBlock(root, at);

  if (!isMapReduceText(text)) {
    const commands = root.get('commands', true) as Node | undefined;
    if (commands === undefined)
      throw at(root, 'a standard workflow needs `commands`: a list of steps');
    const name = optionalString(root, 'name', at);
    return {
      kind: 'standard',
      ...(name === undefined ? {} : { name }),
      commands: steps(commands, '`commands`', at),
      env,
      raw,
    };
  }

  return mapReduceWorkflow(root, env, raw, at, where);
}

type At = (node: Node | null | undefined, problem: string) => WorkflowError;

/** A file that says `mode: mapreduce`: its name and map phase, and setup and reduce if written. */
function mapReduceWorkflow(
  root: YAMLMap,
  env: Readonly<Record<string, string>>,
  raw: Readonly<Record<string, unknown>>,
  at: At,
  where: (node: Node) => Position,
): MapReduceWorkflow {
  const name = optionalString(root, 'name', at);
  if (name === undefined || name.trim() === '') {
    throw at(root, 'a MapReduce workflow needs a `name`');
  }
  const mapNode = root.get('map', true) as Node | undefined;
  if (!isMap(mapNode)) {
    throw at(
      mapNode ?? root,
      'a MapReduce workflow needs a `map` block with `input` and `agent_template`',
    );
  }
  const setupNode = root.get('setup', true) as Node | undefined;
  const reduceNode = root.get('reduce', true) as Node | undefined;
  const setup =
    setupNode === undefined || isNull(setupNode) ? undefined : setupPhase(setupNode, at);
  const reduce =
    reduceNode === undefined || isNull(reduceNode)
      ? undefined
      : steps(commandsOf(reduceNode), '`reduce`', at);
  return {
    kind: 'mapreduce',
    name,
    env,
    ...(setup ? { setup } : {}),
    map: mapPhase(mapNode, at, where),
    ...(reduce ? { reduce } : {}),
    raw,
  };
}

function mapPhase(node: YAMLMap, at: At, where: (node: Node) => Position): MapPhase {
  const input = optionalString(node, 'input', at);
  if (input === undefined || input.trim() === '') {
    throw at(
      node,
      '`map.input` is required: a JSON file of work items, or a command printing them',
    );
  }
  const template = node.get('agent_template', true) as Node | undefined;
  if (template === undefined) {
    throw at(node, '`map.agent_template` is required: the steps each work item runs');
  }
  const maxItems = optionalCount(node, 'max_items', at);
  const offset = optionalCount(node, 'offset', at);
  // Kept even when empty: Prodigy refuses an empty filter or sort_by, and so will the plan.
  const filter = optionalString(node, 'filter', at);
  const sortBy = optionalString(node, 'sort_by', at);
  const positions: Record<string, Position> = {};
  for (const pair of node.items) {
    const key = pair.key as Node;
    if (isScalar(key)) positions[String(key.value)] = where((pair.value as Node | null) ?? key);
  }
  return {
    input,
    jsonPath: optionalString(node, 'json_path', at) ?? '',
    ...(filter !== undefined ? { filter } : {}),
    ...(sortBy !== undefined ? { sortBy } : {}),
    ...(maxItems === undefined ? {} : { maxItems }),
    ...(offset === undefined ? {} : { offset }),
    maxParallel: maxParallel(node, at),
    agentTemplate: steps(commandsOf(template), '`map.agent_template`', at),
    positions,
    raw: node.toJSON() as Record<string, unknown>,
  };
}

function setupPhase(node: Node, at: At): SetupPhase {
  if (isMap(node)) {
    const timeout = node.get('timeout', true) as Node | undefined;
    const timeoutSeconds =
      timeout === undefined ? undefined : count(timeout, '`setup.timeout`', at);
    const capture = node.get('capture_outputs');
    return {
      commands: steps(commandsOf(node), '`setup`', at),
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      ...(capture === undefined || capture === null
        ? {}
        : { captureOutputs: (node.get('capture_outputs', true) as Node).toJSON() as unknown }),
    };
  }
  return { commands: steps(node, '`setup`', at) };
}

/** A phase written as a list of steps, or as `{commands: [...]}`. */
function commandsOf(node: Node): Node {
  if (isMap(node)) {
    const commands = node.get('commands', true) as Node | undefined;
    if (commands !== undefined) return commands;
  }
  return node;
}

function steps(node: Node, what: string, at: At): Step[] {
  if (!isSeq(node)) throw at(node, `${what} must be a list of steps`);
  return node.items.map((item) => {
    const step = item as Node;
    if (!isMap(step))
      throw at(step, `each step in ${what} must be a mapping such as {shell: "..."}`);
    return step.toJSON() as Step;
  });
}

function envBlock(root: YAMLMap, at: At): Record<string, string> {
  const node = root.get('env', true) as Node | undefined;
  if (node === undefined || isNull(node)) return {};
  if (!isMap(node)) throw at(node, '`env` must be a mapping of names to values');
  const env: Record<string, string> = {};
  for (const pair of node.items) {
    const key = pair.key as Node;
    const value = pair.value as Node | null;
    if (!isScalar(key)) throw at(key, '`env` names must be plain strings');
    // Prodigy also accepts structured values (secrets, profiles); only plain ones are used here.
    if (value && isScalar(value) && value.value !== null)
      env[String(key.value)] = String(value.value);
  }
  return env;
}

function optionalString(map: YAMLMap, key: string, at: At): string | undefined {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || isNull(node)) return undefined;
  if (!isScalar(node) || typeof node.value === 'object')
    throw at(node, `\`${key}\` must be a string`);
  return String(node.value);
}

function optionalCount(map: YAMLMap, key: string, at: At): number | undefined {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || isNull(node)) return undefined;
  return count(node, `\`${key}\``, at);
}

function count(node: Node, what: string, at: At): number {
  const value = isScalar(node) ? node.value : undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0) {
    throw at(node, `${what} must be a whole number (0 or more)`);
  }
  return number;
}

function maxParallel(map: YAMLMap, at: At): number | string {
  const node = map.get('max_parallel', true) as Node | undefined;
  if (node === undefined || isNull(node)) return 10;
  if (isScalar(node) && typeof node.value === 'string' && /^\$\{?\w+\}?$/.test(node.value.trim())) {
    return node.value.trim();
  }
  const value = count(node, '`map.max_parallel`', at);
  if (value < 1) throw at(node, '`map.max_parallel` must be at least 1');
  return value;
}

function isNull(node: Node): boolean {
  return isScalar(node) && node.value === null;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

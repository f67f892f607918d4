/** The parts of an action.yml the runner uses to run a JavaScript action. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface ActionInput {
  name: string;
  /** undefined when action.yml gives none (the runner then passes ''). */
  default?: string;
  deprecationMessage?: string;
}

export interface ActionManifest {
  name: string;
  inputs: ActionInput[];
  using: string;
  main: string;
  post?: string;
  /** runs.post-if; the runner's default is always(). */
  postIf: string;
}

/** Scalars as the runner's template reader turns them into strings. */
function scalarString(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`expected a string, got ${JSON.stringify(value)}`);
}

export function readActionManifest(actionDir: string): ActionManifest {
  const file = ['action.yml', 'action.yaml']
    .map((name) => path.join(actionDir, name))
    .find((f) => existsSync(f));
  if (file === undefined) throw new Error(`No action.yml or action.yaml in ${actionDir}`);
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  const runs = (doc?.runs ?? {}) as Record<string, unknown>;
  const using = scalarString(runs.using) ?? '';
  if (!/^node\d+$/i.test(using)) {
    throw new Error(
      `${file}: runs.using is '${using}'; the harness runs JavaScript (node) actions only`,
    );
  }
  const main = scalarString(runs.main);
  if (!main) throw new Error(`${file}: runs.main is missing`);
  if (runs.pre !== undefined)
    throw new Error(`${file}: runs.pre is set; the harness does not run pre steps`);
  const inputs = Object.entries(
    (doc?.inputs ?? {}) as Record<string, Record<string, unknown> | null>,
  ).map(([name, spec]): ActionInput => {
    const input: ActionInput = { name };
    const value = scalarString(spec?.default);
    if (value !== undefined) input.default = value;
    const deprecation = scalarString(spec?.deprecationMessage);
    if (deprecation !== undefined) input.deprecationMessage = deprecation;
    return input;
  });
  const post = scalarString(runs.post);
  return {
    name: scalarString(doc?.name) ?? path.basename(actionDir),
    inputs,
    using,
    main,
    ...(post ? { post } : {}),
    postIf: scalarString(runs['post-if']) ?? 'always()',
  };
}

/**
 * The Kubernetes side of the inputs: where the cluster is (kubeconfig content, a kubeconfig file,
 * or a named cluster of the clusters file) and how the Job is placed. Pure apart from reading the
 * clusters file.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from './errors.js';
import { Inputs, type InputName } from './names.js';
import { parseNonNegativeInteger } from './parse.js';

export type KubeconfigSource =
  | {
      readonly kind: 'content';
      readonly content: string;
      /** The file it was read from, before the run: relative paths in it are relative to it. */
      readonly path?: string;
    }
  /** KUBECONFIG naming several files, merged as kubectl merges them. */
  | { readonly kind: 'default' };

export interface KubernetesTarget {
  readonly kubeconfig: KubeconfigSource;
  /** The kubeconfig context; unset means its current context. */
  readonly context?: string;
  /** Unset means the context's namespace, else `default`. */
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly ttlSecondsAfterFinished: number;
  /** Merged into the Job's pod template. */
  readonly podTemplate?: Readonly<Record<string, unknown>>;
  /** The cluster's name in the clusters file, when one was chosen. */
  readonly cluster?: string;
}

/** The clusters file of spec 97. */
interface ClustersFile {
  clusters?: Record<
    string,
    { kubeconfig_path?: string; context?: string; namespace?: string; image?: string } | null
  >;
  default_image?: string;
  default_namespace?: string;
}

export interface KubernetesInputs {
  readonly target: KubernetesTarget;
  /** The image the clusters file names for this cluster (or its default), if any. */
  readonly image?: string;
}

/** Kubeconfig fields whose values are credentials: masked before any output. */
const CREDENTIAL_FIELDS = [
  'token',
  'password',
  'client-key-data',
  'access-token',
  'id-token',
  'refresh-token',
  'client-secret',
];

export function kubernetesInputs(
  input: (name: InputName) => string,
  workspace: string,
  onSecret: (value: string) => void,
  env: NodeJS.ProcessEnv = {},
): KubernetesInputs {
  const trimmed = (name: InputName) => input(name).trim();
  const content = input(Inputs.kubeconfig);
  if (content.trim() !== '') registerCredentials(content, onSecret);

  const { clusterName, clusters, cluster } = chosenCluster(input, workspace);
  const kubeconfig = kubeconfigSource(input, content, cluster, workspace, onSecret, env);

  const context = trimmed(Inputs.context) || cluster?.context;
  const namespace = trimmed(Inputs.namespace) || cluster?.namespace || clusters?.default_namespace;
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    throw new InputError(
      Inputs.namespace,
      namespace,
      'a Kubernetes namespace name (lower-case letters, digits and -)',
    );
  }
  const serviceAccount = trimmed(Inputs.serviceAccount);
  const podTemplate = parsePodTemplate(input(Inputs.podTemplate));
  const image = cluster?.image || clusters?.default_image;
  return {
    target: {
      kubeconfig,
      ...(context ? { context } : {}),
      ...(namespace ? { namespace } : {}),
      ...(serviceAccount ? { serviceAccount } : {}),
      ttlSecondsAfterFinished: parseNonNegativeInteger(
        Inputs.ttlSeconds,
        input(Inputs.ttlSeconds),
        3600,
      )!,
      ...(podTemplate ? { podTemplate } : {}),
      ...(clusterName ? { cluster: clusterName } : {}),
    },
    ...(image ? { image } : {}),
  };
}

/** The clusters file, if there is one, and the cluster the `cluster` input names in it. */
interface ChosenCluster {
  /** The `cluster` input; '' when none is named. */
  readonly clusterName: string;
  readonly clusters: ClustersFile | undefined;
  readonly cluster: NonNullable<ClustersFile['clusters']>[string] | undefined;
}

/** `cluster` and `clusters-config`: a named cluster must be in the clusters file. */
function chosenCluster(input: (name: InputName) => string, workspace: string): ChosenCluster {
  const trimmed = (name: InputName) => input(name).trim();
  const clusterName = trimmed(Inputs.cluster);
  const clustersPath = path.resolve(
    workspace,
    trimmed(Inputs.clustersConfig) || '.prodigy/kubernetes.yaml',
  );
  const clusters = existsSync(clustersPath) ? readClustersFile(clustersPath) : undefined;
  let cluster: NonNullable<ClustersFile['clusters']>[string] | undefined;
  if (clusterName !== '') {
    if (!clusters) {
      throw new InputError(
        Inputs.clustersConfig,
        trimmed(Inputs.clustersConfig) || '.prodigy/kubernetes.yaml',
        `a clusters file (clusters.<name>.kubeconfig_path, context, namespace, image) to find cluster '${clusterName}' in; no such file`,
      );
    }
    const names = Object.keys(clusters.clusters ?? {});
    cluster = clusters.clusters?.[clusterName] ?? undefined;
    if (!names.includes(clusterName)) {
      throw new InputError(
        Inputs.cluster,
        clusterName,
        names.length > 0
          ? `one of the clusters in ${clustersPath}: ${names.join(', ')}`
          : `a cluster named in ${clustersPath}, which names none`,
      );
    }
  }
  return { clusterName, clusters, cluster };
}

/**
 * Where the kubeconfig comes from: the `kubeconfig` input's content, the `kubeconfig-path` file,
 * the cluster's file, or KUBECONFIG's one file (~/.kube/config when unset); else `default`.
 */
function kubeconfigSource(
  input: (name: InputName) => string,
  content: string,
  cluster: ChosenCluster['cluster'],
  workspace: string,
  onSecret: (value: string) => void,
  env: NodeJS.ProcessEnv,
): KubeconfigSource {
  const kubeconfigPath = input(Inputs.kubeconfigPath).trim();
  // A file is read now, before anything runs, and only that content is used, by main and post
  // alike: a workload that rewrites a kubeconfig in the workspace (an exec plugin of its own)
  // is never heard.
  const fromFile = (file: string, input: InputName): KubeconfigSource => {
    const absolute = resolvePath(file, workspace, input);
    const text = readFileSync(absolute, 'utf8');
    registerCredentials(text, onSecret, input);
    return { kind: 'content', content: text, path: absolute };
  };
  let kubeconfig: KubeconfigSource = { kind: 'default' };
  if (content.trim() !== '') kubeconfig = { kind: 'content', content };
  else if (kubeconfigPath !== '') kubeconfig = fromFile(kubeconfigPath, Inputs.kubeconfigPath);
  else if (cluster?.kubeconfig_path)
    kubeconfig = fromFile(cluster.kubeconfig_path, Inputs.clustersConfig);
  else {
    const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
    const single = files.length === 0 ? path.join(env.HOME ?? '', '.kube', 'config') : files[0]!;
    if (files.length <= 1 && existsSync(single))
      kubeconfig = fromFile(single, Inputs.kubeconfigPath);
  }
  return kubeconfig;
}

function resolvePath(file: string, workspace: string, input: InputName): string {
  const home = process.env.HOME ?? '';
  const expanded = file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
  const absolute = path.resolve(workspace, expanded);
  if (!existsSync(absolute))
    throw new InputError(input, file, 'an existing kubeconfig file; no such file');
  return absolute;
}

function readClustersFile(file: string): ClustersFile {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(
      Inputs.clustersConfig,
      file,
      `a YAML clusters file (${(error as Error).message})`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(
      Inputs.clustersConfig,
      file,
      'a YAML mapping with clusters, default_image and default_namespace',
    );
  }
  return parsed as ClustersFile;
}

function parsePodTemplate(raw: string): Record<string, unknown> | undefined {
  if (raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = parseYaml(raw);
  } catch (error) {
    throw new InputError(
      Inputs.podTemplate,
      raw,
      `YAML of a pod template (${(error as Error).message})`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(
      Inputs.podTemplate,
      raw,
      'a YAML mapping merged into the pod template, such as "spec: {nodeSelector: {pool: agents}}"',
    );
  }
  return parsed as Record<string, unknown>;
}

/** Registers the credential values of a kubeconfig, not its every line (that would hide the log). */
export function registerCredentials(
  content: string,
  onSecret: (value: string) => void,
  input: InputName = Inputs.kubeconfig,
): void {
  let parsed: unknown;
  try {
    parsed = parseYaml(content);
  } catch {
    // Not YAML: mask the whole of it, since nothing can be told apart.
    onSecret(content);
    throw new InputError(input, undefined, 'kubeconfig content in YAML; it does not parse');
  }
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (CREDENTIAL_FIELDS.includes(key) && typeof value === 'string' && value !== '')
          onSecret(value);
        else visit(value);
      }
    }
  };
  visit(parsed);
}

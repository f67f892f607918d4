import { fileURLToPath as __cookFileURLToPath } from 'node:url';
const __dirname = __cookFileURLToPath(new URL('.', import.meta.url));
export const id = 225;
export const ids = [225];
export const modules = {

/***/ 68462:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ou: () => (/* binding */ ignoreGone),
/* harmony export */   QV: () => (/* binding */ dockerMessage),
/* harmony export */   se: () => (/* binding */ statusCode)
/* harmony export */ });
/** The engine's own words out of a dockerode error. */
function dockerMessage(error) {
    const e = error;
    const fromJson = e.json?.message;
    if (fromJson)
        return fromJson.trim();
    const message = (e.message ?? String(error)).trim();
    // docker-modem leaves json empty for streamed calls (pull) and prefixes the engine's body with
    // its own "(HTTP code 500) server error - ".
    const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]+)$/.exec(message);
    return wrapped ? wrapped[1].trim() : message;
}
function statusCode(error) {
    return error.statusCode;
}
/** Runs a removal that may find the object already gone. */
async function ignoreGone(action) {
    try {
        await action();
    }
    catch (error) {
        const code = statusCode(error);
        // 404: already removed; 304: already stopped; 409: removal already in progress.
        if (code === 404 || code === 304 || code === 409)
            return;
        throw error;
    }
}


/***/ }),

/***/ 73148:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Fv: () => (/* binding */ registryOf),
/* harmony export */   Yt: () => (/* binding */ ensureImage)
/* harmony export */ });
/* unused harmony export withDefaultTag */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(68462);

/** The registry host of an image reference, or undefined for Docker Hub. */
function registryOf(image) {
    const slash = image.indexOf('/');
    if (slash < 0)
        return undefined;
    const first = image.slice(0, slash);
    return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}
/** Adds the tag Docker would assume, so a pull of `debian` does not fetch every tag. */
function withDefaultTag(image) {
    if (image.includes('@'))
        return image;
    const lastSlash = image.lastIndexOf('/');
    return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}
async function ensureImage(docker, spec, log) {
    const present = await imagePresent(docker, spec.image);
    if (spec.pullPolicy === 'never') {
        if (present)
            return 'present';
        throw new Error(`Image ${spec.image} is not present on the Docker engine and pull-policy is 'never': build or load it first, or use pull-policy 'if-not-present'.`);
    }
    if (present && spec.pullPolicy === 'if-not-present') {
        log(`Image ${spec.image} is present; not pulling (pull-policy: if-not-present).`);
        return 'present';
    }
    await pull(docker, spec, log);
    return 'pulled';
}
async function imagePresent(docker, image) {
    try {
        await docker.getImage(image).inspect();
        return true;
    }
    catch (error) {
        if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .statusCode */ .se)(error) === 404)
            return false;
        throw new Error(`Inspecting image ${image}: ${(0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .dockerMessage */ .QV)(error)}`, { cause: error });
    }
}
async function pull(docker, spec, log) {
    const reference = withDefaultTag(spec.image);
    const registry = registryOf(spec.image);
    const authconfig = spec.registryAuth
        ? {
            username: spec.registryAuth.username,
            password: spec.registryAuth.password,
            ...(registry ? { serveraddress: registry } : {}),
        }
        : undefined;
    log(`Pulling ${reference}${authconfig ? ` as ${spec.registryAuth.username}` : ''}…`);
    let stream;
    try {
        stream = await docker.pull(reference, authconfig ? { authconfig } : {});
    }
    catch (error) {
        throw new Error(`Pulling image ${reference}: ${(0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .dockerMessage */ .QV)(error)}`, { cause: error });
    }
    const shown = new Map();
    let lastProgressAt = 0;
    const events = await new Promise((resolve, reject) => {
        docker.modem.followProgress(stream, (error, output) => (error ? reject(error) : resolve(output)), (event) => {
            if (event.error)
                return;
            const key = event.id ?? '';
            const status = event.status ?? '';
            // Layer state changes are worth a line each; byte counters at most every 2 seconds.
            const isCounter = status === 'Downloading' || status === 'Extracting';
            const now = Date.now();
            if (isCounter && now - lastProgressAt < 2000)
                return;
            if (!isCounter && shown.get(key) === status)
                return;
            shown.set(key, status);
            if (isCounter)
                lastProgressAt = now;
            log(`  ${key ? `${key}: ` : ''}${status}${isCounter && event.progress ? ` ${event.progress}` : ''}`);
        });
    }).catch((error) => {
        throw new Error(`Pulling image ${reference}: ${(0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .dockerMessage */ .QV)(error)}`, { cause: error });
    });
    const failure = events.find((event) => event.error || event.errorDetail);
    if (failure) {
        throw new Error(`Pulling image ${reference} failed: ${failure.errorDetail?.message ?? failure.error}`);
    }
}


/***/ }),

/***/ 3225:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  KubernetesRuntime: () => (/* binding */ KubernetesRuntime),
  createKubernetesRuntime: () => (/* binding */ createKubernetesRuntime)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(38815);
// EXTERNAL MODULE: ./src/config/names.ts
var config_names = __webpack_require__(86234);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./node_modules/@kubernetes/client-node/dist/index.js + 875 modules
var client_node_dist = __webpack_require__(12901);
// EXTERNAL MODULE: ./node_modules/p-retry/index.js + 1 modules
var p_retry = __webpack_require__(74995);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/client.ts
/**
 * Connecting to the cluster: the kubeconfig (its content as read before the run), the context, the namespace, API clients, the API server's own words out of an
 * error, and retries of what the infrastructure, not the request, got wrong.
 */




function connect(target) {
    const config = new client_node_dist/* KubeConfig */.ypW();
    try {
        if (target.kubeconfig.kind === 'content') {
            // Only the content read before the run is used; relative paths in it stay relative to
            // the file it was read from.
            config.loadFromString(target.kubeconfig.content);
            if (target.kubeconfig.path)
                config.makePathsAbsolute(external_node_path_default().dirname(target.kubeconfig.path));
        }
        else {
            config.loadFromDefault();
        }
    }
    catch (error) {
        throw new Error(`Reading the kubeconfig: ${error.message}`, { cause: error });
    }
    const cluster = checkTarget(config, target);
    const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
    return {
        config,
        namespace: target.namespace ?? contextNamespace ?? 'default',
        core: config.makeApiClient(client_node_dist/* CoreV1Api */.f5Y),
        batch: config.makeApiClient(client_node_dist/* BatchV1Api */.Q8C),
        authorization: config.makeApiClient(client_node_dist/* AuthorizationV1Api */.NwU),
        version: config.makeApiClient(client_node_dist/* VersionApi */.Nq_),
        server: cluster.server,
    };
}
/** Picks the context, and checks that it names a cluster and a usable credential plugin. */
function checkTarget(config, target) {
    if (target.context) {
        if (!config.getContextObject(target.context)) {
            const known = config.getContexts().map((c) => c.name);
            throw new Error(`Input 'context' has invalid value ${JSON.stringify(target.context)}: expected one of the kubeconfig's contexts (${known.join(', ') || 'none'})`);
        }
        config.setCurrentContext(target.context);
    }
    const cluster = config.getCurrentCluster();
    if (!cluster) {
        throw new Error('The kubeconfig names no cluster for its current context: pass kubeconfig, kubeconfig-path or cluster.');
    }
    checkCredentialPlugin(config);
    return cluster;
}
/**
 * A user whose credentials come from an exec plugin (aws, gke-gcloud-auth-plugin, kubelogin...)
 * needs that program on this machine: say so plainly before any request fails with ENOENT.
 */
function checkCredentialPlugin(config) {
    const user = config.getCurrentUser();
    const command = user?.exec?.command;
    if (!user || !command)
        return;
    // The plugin runs with this process's own PATH, so that is where it must be found.
    // eslint-disable-next-line no-restricted-properties
    const searchPath = process.env.PATH ?? '';
    const found = command.includes('/')
        ? isExecutable(command)
        : searchPath
            .split((external_node_path_default()).delimiter)
            .filter(Boolean)
            .some((dir) => isExecutable(external_node_path_default().join(dir, command)));
    if (!found) {
        throw new Error(`The kubeconfig's user '${user.name}' gets its credentials from the exec plugin '${command}', which is not installed here (${command.includes('/') ? 'no such executable file' : 'not found on PATH'}). Install it in an earlier step, or pass a kubeconfig whose user has a token or client certificate.`);
    }
}
function isExecutable(file) {
    try {
        (0,external_node_fs_.accessSync)(file, external_node_fs_.constants.X_OK);
        return (0,external_node_fs_.statSync)(file).isFile();
    }
    catch {
        return false;
    }
}
/** HTTP status of a client-node error, if it came from the API server. */
function statusOf(error) {
    const code = error.code;
    return typeof code === 'number' ? code : undefined;
}
/** The API server's message, pulled out of a client error (its body is a Status object). */
function apiMessage(error) {
    const body = error.body;
    let parsed = body;
    if (typeof body === 'string') {
        try {
            parsed = JSON.parse(body);
        }
        catch {
            parsed = undefined;
        }
    }
    const message = parsed?.message;
    if (message)
        return message;
    return error.message ?? String(error);
}
const TRANSIENT_CODES = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
]);
/** 429, 5xx and broken connections are the infrastructure's: worth another try. */
function isTransient(error) {
    const status = statusOf(error);
    if (status !== undefined)
        return status === 429 || status >= 500;
    const code = error.code ??
        error.cause?.code;
    return typeof code === 'string' && TRANSIENT_CODES.has(code);
}
/**
 * Runs an API call, retrying transient failures with exponential backoff (p-retry: a small,
 * well-kept library for exactly this); anything else fails at once with the server's message.
 */
async function withRetries(what, call, retries = 5) {
    try {
        return await (0,p_retry/* default */.Ay)(async () => {
            try {
                return await call();
            }
            catch (error) {
                if (!isTransient(error))
                    throw new p_retry/* AbortError */.lc(error);
                throw error;
            }
        }, { retries, minTimeout: 200, maxTimeout: 3000, factor: 2 });
    }
    catch (error) {
        throw new Error(`${what}: ${apiMessage(error)}`, { cause: error });
    }
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/keeper.ts
/**
 * The keeper: a native sidecar of each pod, in the workload's image, that receives the workspace
 * over exec (transfer.ts), marks it ready, and after the workload ended holds the pod until the
 * results were fetched.
 *
 * The workload's container starts beside it at once, and its shell waits for the ready marker
 * (waitForWorkspace) before the workload runs: a startup probe would hold the container's very
 * creation until the kubelet's next probe, a second or more after the workspace arrived.
 */
/** The keeper: a sidecar that receives the workspace and holds the pod for the way back. */
const KEEPER_CONTAINER = 'keeper';
/** Control files (markers, transfer files) in the pod, on a volume of their own. */
const CONTROL_DIR = '/cook/control';
/** The ready marker's own volume: written by the keeper, read-only for the workload. */
const READY_DIR = '/cook/ready';
const READY_MARKER = `${READY_DIR}/ready`;
const COLLECTED_MARKER = `${CONTROL_DIR}/collected`;
/** Seconds the keeper waits for the results to be fetched after it was asked to stop. */
const KEEPER_HOLD_SECONDS = 120;
/**
 * The keeper's script: idle until SIGTERM (sent when the workload ended, or the pod is deleted),
 * then hold on until the results were fetched or the hold ran out.
 */
const KEEPER_SCRIPT = [
    `trap 'n=0; while [ ! -e ${COLLECTED_MARKER} ] && [ $n -lt ${KEEPER_HOLD_SECONDS * 10} ]; do sleep 0.1; n=$((n+1)); done; exit 0' TERM`,
    'while :; do sleep 1; done',
].join('\n');
/**
 * Seconds the workload waits for the workspace before it gives up (a send that fails ends the
 * run sooner: pod-tracker.ts).
 */
const RECEIVE_TIMEOUT_SECONDS = 600;
/**
 * Shell lines run before the workload: wait for the keeper's ready marker, polled every 0.1 s.
 * A stop while waiting ends the shell at once (as PID 1 it would ignore SIGTERM otherwise).
 */
const WAIT_FOR_WORKSPACE = [
    "trap 'exit 143' TERM INT",
    'n=0',
    `while [ ! -e ${READY_MARKER} ]; do`,
    `  if [ $n -ge ${RECEIVE_TIMEOUT_SECONDS * 10} ]; then`,
    `    echo 'cook-action: the workspace did not arrive in the pod within ${RECEIVE_TIMEOUT_SECONDS} s' >&2`,
    '    exit 125',
    '  fi',
    '  sleep 0.1',
    '  n=$((n+1))',
    'done',
].join('\n');

// EXTERNAL MODULE: ./src/runtime/usage.ts
var runtime_usage = __webpack_require__(46023);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/pod-spec.ts


/** The workload's container name: podFailurePolicy and log reads name it. */
const WORKLOAD_CONTAINER = 'workload';
/**
 * The pod's grace after SIGTERM: the workload's, when stopped at its deadline, and the keeper's
 * for handing back the results afterwards.
 */
const TERMINATION_GRACE_SECONDS = 60;
/** Where the workflow file from the ConfigMap appears in the pod. */
const WORKFLOW_DIR = '/cook/workflow';
const PULL_POLICIES = {
    always: 'Always',
    'if-not-present': 'IfNotPresent',
    never: 'Never',
};
function podSpec(spec, target, refs) {
    const container = spec.container;
    return {
        restartPolicy: 'Never',
        shareProcessNamespace: false,
        terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        ...(target.serviceAccount
            ? { serviceAccountName: target.serviceAccount }
            : { automountServiceAccountToken: false }),
        ...(container.registryAuth ? { imagePullSecrets: [{ name: refs.secret }] } : {}),
        securityContext: {
            seccompProfile: { type: 'RuntimeDefault' },
            ...userSecurityContext(container.user),
        },
        initContainers: [keeperContainer(spec, container)],
        containers: [workloadContainer(spec, container, refs)],
        volumes: volumes(spec, refs.workflowFile),
    };
}
/** The volume of each of the spec's host folders; the keeper fills every one. */
function mountsOf(spec) {
    return spec.mounts.map((mount, index) => ({ name: `mount-${index}`, mountPath: mount.target }));
}
function keeperContainer(spec, container) {
    return {
        name: KEEPER_CONTAINER,
        image: container.image,
        imagePullPolicy: PULL_POLICIES[container.pullPolicy],
        // A native sidecar: started before the workload, stopped after it.
        restartPolicy: 'Always',
        command: ['sh', '-c', KEEPER_SCRIPT],
        resources: { requests: { cpu: '10m', memory: '32Mi' } },
        securityContext: restrictedContainer(container.capabilities, container.user),
        volumeMounts: [
            ...mountsOf(spec),
            { name: 'control', mountPath: CONTROL_DIR },
            { name: 'ready', mountPath: READY_DIR },
        ],
    };
}
function workloadContainer(spec, container, refs) {
    const { workflowFile } = refs;
    const command = [...spec.argv];
    if (workflowFile)
        command[workflowFile.argIndex] = `${WORKFLOW_DIR}/${workflowFile.key}`;
    const env = [
        ...Object.entries(spec.env).map(([key, value]) => ({ name: key, value })),
        ...Object.keys(spec.secretEnv).map((key) => ({
            name: key,
            valueFrom: { secretKeyRef: { name: refs.secret, key: `env.${key}` } },
        })),
    ];
    return {
        name: WORKLOAD_CONTAINER,
        image: container.image,
        imagePullPolicy: PULL_POLICIES[container.pullPolicy],
        // The workload, once the workspace is in (keeper.ts), in a shell that passes signals on and
        // leaves its cgroup counters in the termination message when it exits (runtime/usage.ts).
        command: [
            'sh',
            '-c',
            `${WAIT_FOR_WORKSPACE}\n${(0,runtime_usage/* usageWrapper */.nY)('/dev/termination-log')}`,
            'cook-workload',
            ...command,
        ],
        workingDir: spec.workdir,
        env,
        resources: resources(container),
        securityContext: restrictedContainer(container.capabilities, container.user),
        volumeMounts: [
            // The workload may not write to a read-only folder.
            ...mountsOf(spec).map((mount, index) => ({
                ...mount,
                ...(spec.mounts[index].readOnly ? { readOnly: true } : {}),
            })),
            ...(workflowFile ? [{ name: 'workflow', mountPath: WORKFLOW_DIR, readOnly: true }] : []),
            { name: 'ready', mountPath: READY_DIR, readOnly: true },
        ],
    };
}
function volumes(spec, workflowFile) {
    return [
        // Bounded (transfer-limit): a workload that fills its disk is evicted, not the node.
        ...mountsOf(spec).map((mount) => ({
            name: mount.name,
            emptyDir: { sizeLimit: String(spec.transferLimit.bytes) },
        })),
        // The archives going out, and the commits, wait here.
        { name: 'control', emptyDir: { sizeLimit: String(2 * spec.transferLimit.bytes) } },
        // The keeper's ready marker, the one thing of its own the workload sees.
        { name: 'ready', emptyDir: { sizeLimit: '1Mi' } },
        ...(workflowFile ? [{ name: 'workflow', configMap: { name: workflowFile.name } }] : []),
    ];
}
/** Least privilege, as on Docker: every capability dropped but the kept ones, no escalation. */
function restrictedContainer(capabilities, user) {
    const uid = user?.split(':')[0];
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'], ...(capabilities.length ? { add: [...capabilities] } : {}) },
        // Only a numeric user can be checked before the image is pulled; a named one is the image's.
        ...(uid !== undefined && /^\d+$/.test(uid) && uid !== '0' ? { runAsNonRoot: true } : {}),
    };
}
function resources(container) {
    const amounts = {};
    if (container.cpu)
        amounts.cpu = `${container.cpu.millicores}m`;
    if (container.memory)
        amounts.memory = String(container.memory.bytes);
    const gpus = container.gpus === 'all' ? undefined : container.gpus;
    if (gpus !== undefined)
        amounts['nvidia.com/gpu'] = String(gpus);
    if (Object.keys(amounts).length === 0)
        return {};
    return { requests: { ...amounts }, limits: { ...amounts } };
}
function userSecurityContext(user) {
    if (!user)
        return {};
    const [uid, gid] = user.split(':');
    const result = {};
    if (uid !== undefined && /^\d+$/.test(uid))
        result.runAsUser = Number(uid);
    if (gid !== undefined && /^\d+$/.test(gid))
        result.runAsGroup = Number(gid);
    return result;
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/pod-template.ts
/**
 * The user's pod-template YAML merged over the Job's template: mappings merge key by key, and
 * lists of named things (containers, volumes, env) merge by name, as a strategic merge would.
 */
function withPodTemplate(job, overlay) {
    const template = job.spec.template;
    return {
        ...job,
        spec: { ...job.spec, template: merge(template, overlay) },
    };
}
function merge(base, overlay) {
    if (Array.isArray(base) && Array.isArray(overlay)) {
        const named = (items) => items.every((item) => item && typeof item === 'object' && 'name' in item);
        if (!named(base) || !named(overlay))
            return overlay;
        const result = [...base];
        for (const item of overlay) {
            const index = result.findIndex((existing) => existing.name === item.name);
            if (index >= 0)
                result[index] = merge(result[index], item);
            else
                result.push(item);
        }
        return result;
    }
    if (isMapping(base) && isMapping(overlay)) {
        const result = { ...base };
        for (const [key, value] of Object.entries(overlay)) {
            result[key] = key in base ? merge(base[key], value) : value;
        }
        return result;
    }
    return overlay;
}
function isMapping(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// EXTERNAL MODULE: ./src/runtime/docker/image.ts
var docker_image = __webpack_require__(73148);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/secret.ts

/** The Secret the spec needs, or undefined when it has no secret env and no credentials. */
function runSecret(spec, metadata) {
    const keys = Object.keys(spec.secretEnv);
    const auth = spec.container?.registryAuth;
    if (keys.length === 0 && !auth)
        return undefined;
    return {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata,
        // Opaque with the pull credentials under .dockerconfigjson: kubelet reads that key from any
        // Secret named in imagePullSecrets.
        type: auth ? 'kubernetes.io/dockerconfigjson' : 'Opaque',
        stringData: {
            ...Object.fromEntries(keys.map((key) => [`env.${key}`, spec.secretEnv[key]])),
            ...(auth ? { '.dockerconfigjson': dockerConfigJson(spec.container.image, auth) } : {}),
        },
    };
}
function dockerConfigJson(image, auth) {
    // An image without a registry host is Docker Hub's, which the kubelet files under docker.io.
    const registry = (0,docker_image/* registryOf */.Fv)(image) ?? 'docker.io';
    const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    return JSON.stringify({
        auths: { [registry]: { username: auth.username, password: auth.password, auth: encoded } },
    });
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/manifest.ts



/** How often the Job may retry a pod lost to the infrastructure (eviction, node drain). */
const DISRUPTION_RETRIES = 3;
function jobName(runId) {
    return `prodigy-${runId}`;
}
function secretName(runId) {
    return `prodigy-${runId}-secrets`;
}
function configMapName(runId) {
    return `prodigy-${runId}-workflow`;
}
function buildJobObjects(spec, options) {
    if (!spec.container)
        throw new Error('The Kubernetes runtime needs a container spec.');
    const id = options.indexed?.id ?? spec.runId;
    const name = jobName(id);
    const labels = {
        ...spec.labels,
        'app.kubernetes.io/name': 'prodigy',
        'app.kubernetes.io/managed-by': 'cook-action',
        'app.kubernetes.io/instance': name,
    };
    const workflowFile = spec.workflowFile && options.workflowContent !== undefined
        ? { key: 'workflow.yml', name: configMapName(id), argIndex: spec.workflowFile.argIndex }
        : undefined;
    const pod = podSpec(spec, options.target, { secret: secretName(id), workflowFile });
    const secret = runSecret(spec, { name: secretName(id), namespace: options.namespace, labels });
    const suspended = secret !== undefined || workflowFile !== undefined;
    const job = jobObject(spec, options, { name, labels, suspended }, pod);
    return {
        job: options.target.podTemplate ? withPodTemplate(job, options.target.podTemplate) : job,
        ...(secret ? { secret } : {}),
        ...(workflowFile
            ? {
                configMap: {
                    apiVersion: 'v1',
                    kind: 'ConfigMap',
                    metadata: { name: workflowFile.name, namespace: options.namespace, labels },
                    data: { [workflowFile.key]: options.workflowContent },
                },
            }
            : {}),
    };
}
function jobObject(spec, options, metadata, pod) {
    return {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
            name: metadata.name,
            namespace: options.namespace,
            labels: metadata.labels,
            annotations: {
                'io.prodigy.cook-action/workflow': spec.origin.workflow ?? '',
                'io.prodigy.cook-action/submitter': spec.origin.submitter,
                'io.prodigy.cook-action/submitted-at': options.submittedAt.toISOString(),
            },
        },
        spec: {
            // Created suspended when its pod needs a Secret or a ConfigMap: they are created next,
            // owned by the Job, and only then does the Job start its pod.
            suspend: metadata.suspended,
            ttlSecondsAfterFinished: options.target.ttlSecondsAfterFinished,
            ...(spec.timeoutMs === undefined
                ? {}
                : { activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)) }),
            ...retries(options.indexed),
            template: { metadata: { labels: metadata.labels }, spec: pod },
        },
    };
}
/** How the Job counts and retries its pods: once, or per index of an Indexed Job. */
function retries(indexed) {
    return {
        ...(indexed
            ? {
                completionMode: 'Indexed',
                completions: indexed.count,
                parallelism: indexed.parallelism,
                backoffLimitPerIndex: DISRUPTION_RETRIES,
            }
            : { backoffLimit: DISRUPTION_RETRIES }),
        podFailurePolicy: {
            // The first rule that matches decides, so disruption comes first: an evicted pod's
            // workload dies of the SIGTERM (143), which the second rule alone would call final.
            rules: [
                // A pod lost to the infrastructure (eviction, preemption, drain) is started again, and
                // does not count against the retries.
                { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
                // The workload's own non-zero exit is its answer: never retried.
                {
                    action: indexed ? 'FailIndex' : 'FailJob',
                    onExitCodes: { containerName: WORKLOAD_CONTAINER, operator: 'NotIn', values: [0] },
                },
            ],
        },
    };
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/preflight.ts

/** Every request the Kubernetes runtime makes, and so the Role it needs (deploy/kubernetes/role.yaml). */
const REQUIRED_PERMISSIONS = [
    ...['create', 'get', 'list', 'watch', 'patch', 'delete'].map((verb) => ({
        group: 'batch',
        resource: 'jobs',
        verb,
    })),
    ...['create', 'delete'].map((verb) => ({ group: '', resource: 'secrets', verb })),
    ...['create', 'delete'].map((verb) => ({ group: '', resource: 'configmaps', verb })),
    ...['get', 'list', 'watch', 'delete'].map((verb) => ({ group: '', resource: 'pods', verb })),
    { group: '', resource: 'pods', subresource: 'log', verb: 'get' },
    // The workspace goes in and the results come out over exec (a websocket: get, then create).
    ...['get', 'create'].map((verb) => ({ group: '', resource: 'pods', subresource: 'exec', verb })),
    { group: '', resource: 'events', verb: 'list' },
];
function describePermission(p) {
    const resource = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
    return `${p.verb} ${p.group ? `${resource}.${p.group}` : resource}`;
}
/**
 * Whether a rule grants the permission, as RBAC matches it: `*` for any verb, group or resource,
 * `*\/sub` for a subresource of any resource. A rule limited to some names does not count: the
 * run creates and lists objects it cannot name in advance.
 */
function ruleGrants(rule, p) {
    if (rule.resourceNames && rule.resourceNames.length > 0)
        return false;
    const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
    const resources = rule.resources ?? [];
    return ((rule.verbs.includes('*') || rule.verbs.includes(p.verb)) &&
        ((rule.apiGroups ?? []).includes('*') || (rule.apiGroups ?? []).includes(p.group)) &&
        (resources.includes('*') ||
            resources.includes(resource) ||
            (p.subresource !== undefined && resources.includes(`*/${p.subresource}`))));
}
/**
 * The API server answers, and the credentials may do all the run needs. One rules review lists
 * what they may do in the namespace; only when its answer is incomplete (an authorizer that
 * cannot list its rules, such as a webhook) is each permission it does not show asked about alone.
 */
async function preflight(cluster) {
    const [version, rules] = await Promise.all([serverVersion(cluster), rulesReview(cluster)]);
    const unshown = REQUIRED_PERMISSIONS.filter((p) => !rules.resourceRules.some((rule) => ruleGrants(rule, p)));
    const missing = rules.incomplete ? await notAllowed(cluster, unshown) : unshown;
    if (missing.length > 0) {
        throw new Error(`The credentials may not do everything the run needs in namespace ${cluster.namespace}; missing: ${missing.map(describePermission).join(', ')}. ` +
            'Bind a Role like deploy/kubernetes/role.yaml to them.');
    }
    return version;
}
async function serverVersion(cluster) {
    try {
        const info = await withRetries('Asking the API server for its version', () => cluster.version.getCode(), 2);
        return info.gitVersion;
    }
    catch (error) {
        throw new Error(`The Kubernetes API server at ${cluster.server} does not answer: ${error.message}`, { cause: error });
    }
}
async function rulesReview(cluster) {
    const review = await withRetries('Checking permissions', () => cluster.authorization.createSelfSubjectRulesReview({
        body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectRulesReview',
            spec: { namespace: cluster.namespace },
        },
    })).catch((error) => {
        throw new Error(`Checking permissions: ${apiMessage(error)}`, { cause: error });
    });
    return {
        resourceRules: review.status?.resourceRules ?? [],
        incomplete: review.status?.incomplete ?? true,
    };
}
/** The permissions an access review each says are not allowed, in the order given. */
async function notAllowed(cluster, permissions) {
    const allowed = await Promise.all(permissions.map(async (p) => {
        const review = await withRetries(`Checking permission to ${describePermission(p)}`, () => cluster.authorization.createSelfSubjectAccessReview({
            body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SelfSubjectAccessReview',
                spec: {
                    resourceAttributes: {
                        namespace: cluster.namespace,
                        group: p.group,
                        resource: p.resource,
                        ...(p.subresource ? { subresource: p.subresource } : {}),
                        verb: p.verb,
                    },
                },
            },
        })).catch((error) => {
            throw new Error(`Checking permissions: ${apiMessage(error)}`, { cause: error });
        });
        return review.status?.allowed === true;
    }));
    return permissions.filter((_, index) => !allowed[index]);
}

// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/exec.ts
/**
 * Commands run in a pod's container over the API server's exec endpoint (websocket), with a file
 * sent to their stdin under backpressure and their stdout written where the caller says. The
 * exit code comes from the Status the API server sends on the error channel.
 */



/** An exec whose connection was lost: retried like any dropped connection (code ECONNRESET). */
class ExecDropped extends Error {
    code = 'ECONNRESET';
}
/** Data frames for the stdin channel (0) of the channel.k8s.io protocols. */
const STDIN_CHANNEL = 0;
/** Above this many bytes queued on the socket, sending waits. */
const HIGH_WATER = 4 * 1024 * 1024;
/** Runs `sh -c script` in a container and resolves with its exit code and output. */
async function execScript(cluster, pod, container, script, options = {}) {
    const out = [];
    const err = [];
    const stdout = options.stdout ?? collector(out);
    const stderr = collector(err);
    let status;
    const ws = await new client_node_dist/* Exec */.WoD(cluster.config)
        .exec(cluster.namespace, pod, container, ['sh', '-c', script], stdout, stderr, 
    // A stream that is never written: it only asks for a stdin channel; data is sent below.
    options.stdinFile ? new external_node_stream_.PassThrough() : null, false, (s) => (status = s))
        .catch((error) => {
        throw socketError(error);
    });
    // Listeners attached at once: the socket's events come from later I/O turns.
    const closed = new Promise((resolve, reject) => {
        ws.on('close', () => resolve());
        ws.on('error', (error) => reject(socketError(error)));
    });
    if (options.stdinFile)
        await sendFile(ws, options.stdinFile);
    await closed;
    if (options.stdout === undefined)
        stdout.end();
    // The API server always ends an exec with a Status; a socket that closed without one was
    // cut (a proxy, a restart) and the command's end is unknown: a drop, to be tried again.
    if (!status)
        throw new ExecDropped('the exec connection closed before the command ended');
    const exitCode = exitCodeOf(status);
    // A Failure without an exit code is the connection's, not the command's (seen when the
    // connection to the API server is cut mid-exec): the command's end is unknown.
    if (exitCode === undefined) {
        throw new ExecDropped(`the exec ended without the command's exit code${status.message ? ` (${status.message})` : ''}`);
    }
    return {
        exitCode,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
    };
}
/**
 * The socket's error (an ErrorEvent while connecting, not always an Error) as an Error: the
 * API server's refusal of the upgrade (a 4xx but 429) is final, anything else a drop.
 */
function socketError(error) {
    const event = error;
    const message = typeof event.message === 'string' && event.message !== ''
        ? event.message
        : event.error instanceof Error
            ? event.error.message
            : String(error);
    const refused = /Unexpected server response: (\d+)/.exec(message);
    const code = refused ? Number(refused[1]) : undefined;
    if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
        return new Error(`the API server refused the exec: ${message}`);
    }
    return new ExecDropped(`the exec connection failed: ${message}`);
}
function collector(into) {
    const stream = new external_node_stream_.PassThrough();
    stream.on('data', (chunk) => into.push(chunk));
    return stream;
}
async function sendFile(ws, file) {
    for await (const chunk of (0,external_node_fs_.createReadStream)(file, { highWaterMark: 256 * 1024 })) {
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = STDIN_CHANNEL;
        chunk.copy(frame, 1);
        if (ws.readyState !== ws.OPEN)
            throw new ExecDropped('the exec connection closed while sending');
        ws.send(frame);
        while (ws.bufferedAmount > HIGH_WATER) {
            if (ws.readyState !== ws.OPEN)
                throw new ExecDropped('the exec connection closed while sending');
            await new Promise((r) => setTimeout(r, 10));
        }
    }
}
/** Success is 0; a Failure names the exit code among its causes; anything else is unknown. */
function exitCodeOf(status) {
    if (status.status === 'Success')
        return 0;
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    return cause && Number.isInteger(code) ? code : undefined;
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/pods.ts


/** The label the Job controller puts on its pods: every index's, for an Indexed Job. */
function jobPodSelector(job) {
    return `batch.kubernetes.io/job-name=${job}`;
}
/** The label (and annotation) the Job controller gives each pod of an Indexed Job. */
const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** The index of an Indexed Job's pod, from its label or else its annotation. */
function podIndex(pod) {
    const text = pod.metadata?.labels?.[COMPLETION_INDEX] ?? pod.metadata?.annotations?.[COMPLETION_INDEX];
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}
/** An Indexed Job's `completedIndexes` or `failedIndexes` ("0,2-4") as a set. */
function indexSet(text) {
    const set = new Set();
    for (const part of (text ?? '').split(',')) {
        const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
        if (!range)
            continue;
        const from = Number(range[1]);
        const to = range[2] === undefined ? from : Number(range[2]);
        for (let i = from; i <= to; i++)
            set.add(i);
    }
    return set;
}
function workloadStatus(pod) {
    return pod.status?.containerStatuses?.find((s) => s.name === WORKLOAD_CONTAINER);
}
function eventTime(event) {
    const time = event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
    return time ? new Date(time).getTime() : 0;
}
/** Go's time.Duration text (`1.5s`, `532ms`, `1m2.5s`) → seconds. */
function goDuration(text) {
    const units = {
        ns: 1e-9,
        us: 1e-6,
        µs: 1e-6,
        ms: 1e-3,
        s: 1,
        m: 60,
        h: 3600,
    };
    let total = 0;
    let matched = '';
    for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
        total += Number(part[1]) * units[part[2]];
        matched += part[0];
    }
    return matched === text && matched !== '' ? total : undefined;
}
function keeperStatus(pod) {
    return pod.status?.initContainerStatuses?.find((s) => s.name === KEEPER_CONTAINER);
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/job-api.ts
/** The calls on a run's Job and pods that more than one part makes: delete, wait, mark ready. */




/** Marks the keeper ready when there is nothing to send. */
async function execReady(cluster, pod) {
    await execScript(cluster, pod, KEEPER_CONTAINER, `touch ${READY_MARKER}`);
}
/** Whether the object was there to delete. */
async function deletedIfAny(call) {
    try {
        await call();
        return true;
    }
    catch (error) {
        if (statusOf(error) !== 404)
            throw error;
        return false;
    }
}
async function ignoreNotFound(call) {
    try {
        await call();
    }
    catch (error) {
        if (statusOf(error) !== 404)
            throw error;
    }
}
/** Deletes a Job and, in the foreground, its pods, giving them graceSeconds to stop. */
async function deleteJob(cluster, name, graceSeconds) {
    await ignoreNotFound(() => cluster.batch.deleteNamespacedJob({
        name,
        namespace: cluster.namespace,
        propagationPolicy: 'Foreground',
        gracePeriodSeconds: graceSeconds,
    }));
    // Foreground deletion waits for the pods, which keep their own grace period: shorten it.
    const pods = await cluster.core.listNamespacedPod({
        namespace: cluster.namespace,
        labelSelector: jobPodSelector(name),
    });
    await Promise.all(pods.items.map((pod) => ignoreNotFound(() => cluster.core.deleteNamespacedPod({
        name: pod.metadata.name,
        namespace: cluster.namespace,
        gracePeriodSeconds: graceSeconds,
    }))));
}
async function waitGone(cluster, job, ms) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        const exists = await cluster.batch
            .readNamespacedJob({ name: job, namespace: cluster.namespace })
            .then(() => true, (error) => statusOf(error) !== 404);
        const pods = await cluster.core.listNamespacedPod({
            namespace: cluster.namespace,
            labelSelector: jobPodSelector(job),
        });
        if (!exists && pods.items.length === 0)
            return;
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`Job ${job} and its pods were still there ${ms / 1000}s after deletion`);
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/watch.ts
/**
 * List-then-watch that survives the API server: resumes from the last resourceVersion when a
 * watch ends (client-node's watches time out on their own), and lists again on 410 Gone.
 */


/** Runs until the signal aborts; rejects only on errors that a retry cannot mend. */
async function listAndWatch(options) {
    const watch = new client_node_dist/* Watch */.ox1(options.config);
    let resourceVersion;
    const delay = () => new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 500));
    while (!options.signal.aborted) {
        if (resourceVersion === undefined) {
            try {
                const listed = await options.list();
                for (const item of listed.items)
                    options.onEvent('ADDED', item);
                resourceVersion = listed.metadata?.resourceVersion;
            }
            catch (error) {
                const status = statusOf(error);
                if (status !== undefined && status < 500 && status !== 429)
                    throw error;
                await delay();
                continue;
            }
        }
        const ended = await new Promise((resolve) => {
            let controller;
            const onAbort = () => controller?.abort();
            options.signal.addEventListener('abort', onAbort, { once: true });
            watch
                .watch(options.path, { ...options.query, allowWatchBookmarks: true, resourceVersion }, (type, object) => {
                if (type === 'ERROR') {
                    // The server ends a watch it cannot continue (410 Gone: too old a version).
                    if (object.code === 410)
                        resourceVersion = undefined;
                    return;
                }
                const version = object.metadata?.resourceVersion;
                if (version)
                    resourceVersion = version;
                if (type === 'BOOKMARK')
                    return;
                options.onEvent(type, object);
            }, (error) => {
                options.signal.removeEventListener('abort', onAbort);
                resolve(error);
            })
                .then((c) => {
                controller = c;
                if (options.signal.aborted)
                    c.abort();
            })
                .catch((error) => {
                options.signal.removeEventListener('abort', onAbort);
                resolve(error);
            });
        });
        if (options.signal.aborted)
            break;
        if (ended && statusOf(ended) === 410)
            resourceVersion = undefined;
        // A watch that ends, with or without an error, is picked up again from where it was.
        if (ended)
            await delay();
    }
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/job-events.ts



class JobEvents {
    #options;
    #subscribers = new Set();
    /** The subscribers of each index; under undefined, those given every pod. */
    #byIndex = new Map();
    #stop = new AbortController();
    /** The newest of each pod seen and not deleted, and of the Job: what a newcomer is told. */
    #pods = new Map();
    #job;
    #failures = [];
    #started = false;
    constructor(options) {
        this.#options = options;
    }
    /**
     * Hands `handler` the pods of `index` (every pod when undefined), the Job, the ticks and a
     * failed watch, from now on: what was seen before it came is told to it first, as a list
     * would. Returns its unsubscribe; the last one stops the watches.
     */
    subscribe(index, handler) {
        if (this.#stop.signal.aborted)
            throw new Error(`The watches of Job ${this.#options.name} ended.`);
        const subscriber = { index, handler };
        this.#subscribers.add(subscriber);
        const ofIndex = this.#byIndex.get(index) ?? new Set();
        this.#byIndex.set(index, ofIndex.add(subscriber));
        if (!this.#started)
            this.#start();
        else
            this.#catchUp(subscriber);
        return () => this.#leave(subscriber);
    }
    #leave(subscriber) {
        this.#subscribers.delete(subscriber);
        this.#byIndex.get(subscriber.index)?.delete(subscriber);
        if (this.#subscribers.size === 0)
            this.#stop.abort();
    }
    #start() {
        this.#started = true;
        const { cluster, name } = this.#options;
        const watch = this.#options.listAndWatch ?? listAndWatch;
        const now = this.#options.now ?? Date.now;
        const ns = cluster.namespace;
        const failed = (what) => (error) => this.#failed({ kind: 'watch-failed', what, message: apiMessage(error) });
        const pods = jobPodSelector(name);
        void watch({
            config: cluster.config,
            path: `/api/v1/namespaces/${ns}/pods`,
            query: { labelSelector: pods },
            list: () => cluster.core.listNamespacedPod({ namespace: ns, labelSelector: pods }),
            onEvent: (change, pod) => this.#pod(change, pod, now()),
            signal: this.#stop.signal,
        }).catch(failed('pods'));
        const job = `metadata.name=${name}`;
        void watch({
            config: cluster.config,
            path: `/apis/batch/v1/namespaces/${ns}/jobs`,
            query: { fieldSelector: job },
            list: () => cluster.batch.listNamespacedJob({ namespace: ns, fieldSelector: job }),
            onEvent: (change, job) => this.#jobChanged(change, job),
            signal: this.#stop.signal,
        }).catch(failed('Job'));
        const timer = setInterval(() => this.#deliver(this.#subscribers, { kind: 'tick', now: now() }), this.#options.tickMs ?? 1000);
        this.#stop.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    }
    #pod(change, pod, now) {
        const name = pod.metadata?.name;
        if (name !== undefined) {
            if (change === 'DELETED')
                this.#pods.delete(name);
            else
                this.#pods.set(name, pod);
        }
        // Looked up by index: an event costs its own workload, not a walk past every index's.
        const index = podIndex(pod);
        const to = [...(this.#byIndex.get(index) ?? [])];
        if (index !== undefined)
            to.push(...(this.#byIndex.get(undefined) ?? []));
        this.#deliver(to, { kind: 'pod', change, pod, now });
    }
    #jobChanged(change, job) {
        this.#job = change === 'DELETED' ? undefined : job;
        this.#deliver(this.#subscribers, { kind: 'job', change, job });
    }
    #failed(event) {
        if (this.#stop.signal.aborted)
            return;
        this.#failures.push(event);
        this.#deliver(this.#subscribers, event);
    }
    /** A newcomer is told the pods and the Job as they are, and any watch that failed. */
    #catchUp(subscriber) {
        const now = (this.#options.now ?? Date.now)();
        const only = [subscriber];
        for (const pod of this.#pods.values()) {
            if (subscriber.index === undefined || podIndex(pod) === subscriber.index)
                this.#deliver(only, { kind: 'pod', change: 'ADDED', pod, now });
        }
        if (this.#job)
            this.#deliver(only, { kind: 'job', change: 'ADDED', job: this.#job });
        for (const failure of this.#failures)
            this.#deliver(only, failure);
    }
    /**
     * Hands the event to each subscriber chosen, each on its own: one whose handler throws is
     * told so, as a failed watch, and given nothing more; the others get the event all the same.
     */
    #deliver(to, event) {
        for (const subscriber of [...to]) {
            // One that left while the event went round is given no more.
            if (!this.#subscribers.has(subscriber))
                continue;
            try {
                subscriber.handler(event);
            }
            catch (error) {
                this.#leave(subscriber);
                const message = `following a ${event.kind} event failed: ${error.message}`;
                try {
                    subscriber.handler({ kind: 'watch-failed', what: "Job's events", message });
                }
                catch {
                    // It cannot take even that: it has been told all it can be.
                }
            }
        }
    }
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
var external_node_os_default = /*#__PURE__*/__webpack_require__.n(external_node_os_);
// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(37067);
var external_node_http_default = /*#__PURE__*/__webpack_require__.n(external_node_http_);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(44708);
var external_node_https_default = /*#__PURE__*/__webpack_require__.n(external_node_https_);
// EXTERNAL MODULE: ./src/logs/line-splitter.ts
var line_splitter = __webpack_require__(73881);
// EXTERNAL MODULE: ./src/runtime/log-cursor.ts
var log_cursor = __webpack_require__(97221);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/pod-logs.ts
/**
 * A pod's log as a reconciliation loop (ARCHITECTURE.md, rule 2): followed with timestamps from the
 * container's start; after a dropped stream resumed with sinceTime without a lost or repeated
 * line; read once more after the container ended.
 */




/** Opens the log of one container, with timestamps. */
async function openPodLog(cluster, pod, container, request, signal) {
    const url = new URL(`${cluster.server}/api/v1/namespaces/${cluster.namespace}/pods/${pod}/log`);
    url.searchParams.set('container', container);
    url.searchParams.set('timestamps', 'true');
    if (request.follow)
        url.searchParams.set('follow', 'true');
    if (request.sinceTime)
        url.searchParams.set('sinceTime', request.sinceTime);
    const options = { method: 'GET', headers: {} };
    await cluster.config.applyToHTTPSOptions(options);
    const transport = url.protocol === 'http:' ? (external_node_http_default()) : (external_node_https_default());
    return new Promise((resolve, reject) => {
        const req = transport.request(url, { ...options, ...(signal ? { signal } : {}) }, (res) => {
            if (res.statusCode === 200)
                return resolve(res);
            const parts = [];
            res.on('data', (part) => parts.push(part));
            res.on('end', () => {
                const body = Buffer.concat(parts).toString('utf8');
                let message = body;
                try {
                    message = JSON.parse(body).message ?? body;
                }
                catch {
                    // Not a Status object: keep the text.
                }
                reject(Object.assign(new Error(message.trim()), { code: res.statusCode }));
            });
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    });
}
/** Seconds-precision RFC 3339 at or before a timestamp in nanoseconds. */
function sinceTimeFor(nanos) {
    return new Date(Number(nanos / 1000000000n) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/**
 * Delivers every line of the container's log once, in order, each with its trailing newline,
 * until the container has ended and its tail was read again.
 */
async function followPodLog(source, onLine, options = {}) {
    const cursor = new log_cursor/* LogCursor */.zu();
    const readOnce = async (follow) => {
        const isNew = cursor.resume();
        const from = cursor.position;
        const stream = await source.open({ follow, ...(from === undefined ? {} : { sinceTime: sinceTimeFor(from) }) }, follow ? options.signal : undefined);
        const splitter = new line_splitter/* LineSplitter */.g();
        const take = (line) => {
            const space = line.indexOf(' ');
            const stamp = space > 0 ? (0,log_cursor/* timestampNanos */.uL)(line.slice(0, space)) : undefined;
            if (stamp === undefined) {
                if (line.trim() !== '')
                    options.onNotice?.(line.trim());
            }
            else if (isNew(stamp))
                onLine(Buffer.from(`${line.slice(space + 1)}\n`));
        };
        await new Promise((resolve, reject) => {
            stream.on('data', (chunk) => splitter.push(chunk).forEach(take));
            stream.once('end', resolve);
            stream.once('close', resolve);
            stream.on('error', reject);
        });
        // A stream cut mid-line leaves a piece without its newline: it is read again on resume, so
        // only a final, unterminated last line of a finished log is kept.
        if (!follow)
            splitter.flush().forEach(take);
    };
    await (0,log_cursor/* reconcileLog */.bw)({
        readOnce,
        running: () => source.running(),
        ...(options.signal ? { signal: options.signal } : {}),
        retryDelayMs: options.retryDelayMs ?? 300,
    });
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(46466);
// EXTERNAL MODULE: ./node_modules/tar-fs/index.js
var tar_fs = __webpack_require__(35645);
// EXTERNAL MODULE: ./src/config/parse.ts
var parse = __webpack_require__(58353);
;// CONCATENATED MODULE: ./src/runtime/kubernetes/unpack.ts
/**
 * What came back from a pod, on the runner: each archive unpacked with every link checked, then
 * put in place, the workspace's working tree mirrored and other folders overlaid.
 */





/**
 * Unpacks what came back from the pod, refusing every link that leads out of its folder.
 * tar-fs checks each link's target as text, so `b -> .` and then `a -> b/..` pass it one by
 * one while `a` leads to the folder's parent; so once everything is unpacked, every link is
 * resolved on disk, as the kernel would, and must stay inside (a dangling one may not climb).
 */
async function extractChecked(tarFile, folder, what) {
    await (0,promises_.mkdir)(folder, { recursive: true });
    await (0,external_node_stream_promises_.pipeline)((0,external_node_fs_.createReadStream)(tarFile), tar_fs.extract(folder));
    await checkLinks(folder, what);
}
/** Refuses every link in `folder` (the pod's `what`) that leads out of it, resolved on disk. */
async function checkLinks(folder, what) {
    const root = await (0,promises_.realpath)(folder);
    const walk = async (dir) => {
        for (const entry of await (0,promises_.readdir)(dir, { withFileTypes: true })) {
            const full = external_node_path_default().join(dir, entry.name);
            if (entry.isDirectory()) {
                await walk(full);
                continue;
            }
            if (!entry.isSymbolicLink())
                continue;
            const target = await (0,promises_.readlink)(full);
            const shown = external_node_path_default().posix.join(what, external_node_path_default().relative(folder, full).split((external_node_path_default()).sep).join('/'));
            const resolved = await (0,promises_.realpath)(full).catch(() => undefined);
            const outside = resolved === undefined
                ? external_node_path_default().isAbsolute(target) || target.split('/').includes('..')
                : resolved !== root && !resolved.startsWith(root + (external_node_path_default()).sep);
            if (outside) {
                throw new Error(`${shown} is a link to ${JSON.stringify(target)}, which leads outside ${what}: refused`);
            }
        }
    };
    await walk(folder);
}
/**
 * Makes the tree at `to` equal to the one at `from`, leaving every `.git` alone (on both sides):
 * what is gone is removed, what differs (type, size, mtime or link target) is copied with its
 * times, and the rest is not touched, so tools that look at mtimes see only real changes.
 */
async function mirror(from, to) {
    const wanted = new Set((await (0,promises_.readdir)(from)).filter((name) => name !== '.git'));
    for (const name of await (0,promises_.readdir)(to)) {
        if (!wanted.has(name) && name !== '.git')
            await (0,promises_.rm)(external_node_path_default().join(to, name), { recursive: true, force: true });
    }
    for (const name of wanted) {
        const source = external_node_path_default().join(from, name);
        const target = external_node_path_default().join(to, name);
        const [a, b] = await Promise.all([(0,promises_.lstat)(source), (0,promises_.lstat)(target).catch(() => undefined)]);
        if (a.isDirectory() && b?.isDirectory()) {
            await mirror(source, target);
            continue;
        }
        if (b && a.isFile() && b.isFile() && a.size === b.size && a.mtimeMs === b.mtimeMs)
            continue;
        if (b && a.isSymbolicLink() && b.isSymbolicLink()) {
            if ((await (0,promises_.readlink)(source)) === (await (0,promises_.readlink)(target)))
                continue;
        }
        if (b)
            await (0,promises_.rm)(target, { recursive: true, force: true });
        await (0,promises_.cp)(source, target, {
            recursive: true,
            verbatimSymlinks: true,
            preserveTimestamps: true,
            filter: (file) => external_node_path_default().basename(file) !== '.git',
        });
    }
}
/**
 * Applies what came back to the runner's folders: the workspace's working tree mirrored, other
 * folders overlaid. No `.git` at any depth is touched in the workspace: the commits come back
 * from the run's git folder (results/container-git.ts), and a `.git` the workload made there
 * never reaches the checkout.
 */
async function applyCollected(collected, mounts, workspace) {
    for (const [index, mount] of mounts.entries()) {
        const folder = collected.folders[index];
        if (folder === undefined)
            continue;
        if (mount.target === workspace) {
            await mirror(folder, mount.host);
            continue;
        }
        await (0,promises_.cp)(folder, mount.host, {
            recursive: true,
            force: true,
            verbatimSymlinks: true,
            preserveTimestamps: true,
        });
    }
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/transfer.ts
/**
 * The workspace in and the results out, for a pod that shares no disk with the runner, each in
 * one archive over one exec: under a fan-out of many pods the round trips, not the bytes, were
 * the cost (a 16-shard run spent seconds in eleven execs per pod).
 *
 * In: the spec's host folders are packed (tar-fs) into one file on the runner, each folder's
 * entries named by where the pod sees them, and sent to the keeper container's stdin over exec;
 * the keeper unpacks it into the volumes while it hashes it, and marks the workspace ready (its
 * startup probe, which is what lets the workload container start) only when its SHA-256 is the
 * one the runner computed. Never silently partial: a hash mismatch fails the run.
 *
 * Out: after the workload container ended, while the keeper holds the pod (it waits for the
 * `collected` marker before it exits on SIGTERM), every folder but the read-only ones is packed
 * in the pod into one archive, fetched and checked the same way, and unpacked on the runner
 * (unpack.ts), each folder's links checked as its own. The workspace's working tree is mirrored
 * into the runner's checkout; its commits travel in the run's git folder, a mount of its own
 * that results/container-git.ts reads as files, so a later step sees what it would after a
 * Docker run on a bind-mounted workspace.
 */











/** Where a mount's entries sit in the archives of a pod's folders: its target, from the root. */
function inArchive(target) {
    return external_node_path_default().posix.relative('/', target);
}
/**
 * Packs every mount's host folder into one tar file, hashing it on the way: each folder's
 * entries, not the folder itself (the volume's root belongs to root, and a tar that sets its
 * mode or times fails for any other user), named by where the pod sees them.
 */
async function packMounts(mounts, file) {
    const entries = await Promise.all(mounts.map(async (mount) => {
        const skip = coveredNames(mount, mounts);
        return (await (0,promises_.readdir)(mount.host)).filter((name) => !skip.includes(name));
    }));
    // One pack stream, each folder's entries added in turn, finalized after the last.
    const add = (index, into) => {
        const mount = mounts[index];
        const prefix = inArchive(mount.target);
        const last = index === mounts.length - 1;
        return tar_fs.pack(mount.host, {
            entries: entries[index],
            map: (header) => ({ ...header, name: external_node_path_default().posix.join(prefix, header.name) }),
            ...(into ? { pack: into } : {}),
            finalize: last,
            ...(last ? {} : { finish: (pack) => void add(index + 1, pack) }),
        });
    };
    const hash = (0,external_node_crypto_.createHash)('sha256');
    let size = 0;
    const source = add(0);
    source.on('data', (data) => {
        const chunk = data;
        hash.update(chunk);
        size += chunk.length;
    });
    await (0,external_node_stream_promises_.pipeline)(source, (0,external_node_fs_.createWriteStream)(file));
    return { file, size, sha256: hash.digest('hex') };
}
function quote(text) {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}
async function execChecked(cluster, pod, what, script, options = {}) {
    const result = await execScript(cluster, pod, KEEPER_CONTAINER, script, options);
    if (result.exitCode !== 0) {
        const detail = result.stderr.trim() || result.stdout.trim() || 'no output';
        throw new Error(`${what} failed in the pod (exit code ${result.exitCode}): ${detail}`);
    }
    return result.stdout;
}
function overLimit(what, bytes, limit) {
    return new Error(`${what} is ${(0,parse/* formatBytes */.z3)(bytes)}, over the transfer-limit of ${limit.text}: raise the input 'transfer-limit' to let it through`);
}
/**
 * The keeper's side of the sending, in one exec: the archive read from stdin is hashed (through
 * a FIFO) while it is unpacked into the volumes, and only when its SHA-256 is the one the runner
 * computed is the workspace marked ready; the hash is printed for the runner to check again.
 */
function receiveScript(packed) {
    const fifo = `${CONTROL_DIR}/in.fifo`;
    const sum = `${CONTROL_DIR}/in.sha256`;
    return [
        'set -e',
        `rm -f ${fifo} ${sum}`,
        `mkfifo ${fifo}`,
        `sha256sum < ${fifo} > ${sum} &`,
        // The exec's stdin stays open: head takes the archive's bytes and ends the pipe.
        `head -c ${packed.size} | tee ${fifo} | tar -x -f - -C /`,
        'wait $!',
        `got=$(cut -d' ' -f1 ${sum})`,
        `rm -f ${fifo} ${sum}`,
        `if [ "$got" = ${packed.sha256} ]; then touch ${READY_MARKER}; fi`,
        'echo "$got"',
    ].join('\n');
}
/**
 * Sends every mount's host folder into the pod in one archive over one exec, and marks the
 * keeper ready once it arrived whole.
 */
async function sendMounts(cluster, pod, mounts, scratch, log, limit) {
    const dir = await (0,promises_.mkdtemp)(external_node_path_default().join(scratch, 'send-'));
    try {
        const packed = await packMounts(mounts, external_node_path_default().join(dir, 'in.tar'));
        const folders = mounts.map((mount) => mount.host).join(', ');
        if (packed.size > limit.bytes)
            throw overLimit(`${folders} packed`, packed.size, limit);
        const stdout = await execChecked(cluster, pod, 'Receiving the workspace', receiveScript(packed), {
            stdinFile: packed.file,
        });
        if (stdout.trim() !== packed.sha256) {
            throw new Error(`The workspace arrived damaged in the pod: SHA-256 ${stdout.trim() || '(none)'} instead of ${packed.sha256} (${packed.size} bytes sent)`);
        }
        const where = mounts.map((mount) => `${mount.host} to ${mount.target}`).join(', ');
        log(`Sent ${where} in pod ${pod} (${(0,parse/* formatBytes */.z3)(packed.size)}, checked).`);
    }
    finally {
        await (0,promises_.rm)(dir, { recursive: true, force: true });
    }
}
/**
 * Runs a packing script in the keeper that writes an archive to stdout and then `tar <sha256>`
 * (or `none`, with nothing packed) to stderr, and keeps the archive in `local`, checked against
 * that hash. Past the limit nothing more is written: the pod's count of the size is the
 * workload's to fake, this one is not. Resolves false for `none`.
 */
async function fetchArchive(cluster, pod, what, script, local, limit) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    const out = (0,external_node_fs_.createWriteStream)(local);
    let received = 0;
    const sink = new external_node_stream_.Writable({
        write(chunk, _encoding, done) {
            received += chunk.length;
            if (received > limit.bytes)
                return done();
            hash.update(chunk);
            if (!out.write(chunk))
                out.once('drain', () => done());
            else
                done();
        },
        final(done) {
            out.end(done);
        },
    });
    const written = new Promise((resolve, reject) => {
        out.on('finish', resolve);
        out.on('error', reject);
    });
    const result = await execScript(cluster, pod, KEEPER_CONTAINER, script, { stdout: sink });
    sink.end();
    await written;
    if (result.exitCode !== 0) {
        const detail = result.stderr.trim() || 'no output';
        throw new Error(`Packing ${what} failed in the pod (exit code ${result.exitCode}): ${detail}`);
    }
    if (/^none$/m.test(result.stderr))
        return false;
    const sha256 = /^tar ([0-9a-f]{64})$/m.exec(result.stderr)?.[1];
    if (!sha256)
        throw new Error(`Packing ${what} in the pod reported no archive`);
    if (received > limit.bytes)
        throw overLimit(`What the pod sends back of ${what}`, received, limit);
    const got = hash.digest('hex');
    if (got !== sha256) {
        throw new Error(`${what} came back damaged: SHA-256 ${got} instead of ${sha256}`);
    }
    return true;
}
/** The top-level names in a mount that other mounts cover (the run's `.git` in the workspace). */
function coveredNames(mount, mounts) {
    return mounts
        .filter((other) => external_node_path_default().posix.dirname(other.target) === mount.target)
        .map((other) => external_node_path_default().posix.basename(other.target));
}
/** The keeper's script that packs `remote` (from /, a shell word list) into `archive`. */
function sendArchive(archive, pack) {
    return [
        'set -e',
        ...pack,
        `sum=$(sha256sum ${archive} | cut -d' ' -f1)`,
        `cat ${archive}`,
        `rm -f ${archive}`,
        'echo "tar $sum" >&2',
    ].join('\n');
}
/**
 * Packs every mount the workload could write in the pod, in one archive over one exec, and
 * brings it to the runner, checked; then releases the keeper. A read-only mount does not come
 * back. Each mount's folder on the runner is its target under the collection's folder.
 */
async function collectMounts(cluster, pod, mounts, scratch, limit) {
    const dir = await (0,promises_.mkdtemp)(external_node_path_default().join(scratch, 'collect-'));
    const writable = mounts.filter((mount) => !mount.readOnly);
    const outTar = `${CONTROL_DIR}/out.tar`;
    // The top-level entries of each folder but the excluded ones, by name (busybox's tar has no
    // --exclude); Prodigy's worktrees are copies of the checkout: what they made is in the commits.
    const listing = writable.flatMap((mount) => {
        const from = quote(inArchive(mount.target));
        const excluded = [...coveredNames(mount, mounts), 'worktrees'].map(quote).join('|');
        return [
            `for f in ${from}/* ${from}/.[!.]* ${from}/..?*; do`,
            '  [ -e "$f" ] || [ -L "$f" ] || continue',
            `  case "\${f##*/}" in ${excluded}) continue ;; esac`,
            '  set -- "$@" "$f"',
            'done',
        ];
    });
    const script = sendArchive(outTar, [
        'cd /',
        'set --',
        ...listing,
        `if [ $# -eq 0 ]; then tar -c -f ${outTar} --no-recursion .; else tar -c -f ${outTar} "$@"; fi`,
    ]);
    const local = external_node_path_default().join(dir, 'results.tar');
    const root = external_node_path_default().join(dir, 'root');
    await fetchArchive(cluster, pod, 'the results', script, local, limit);
    // Unpacked as a whole, then each mount's folder checked as its own: a link may not lead
    // from one folder into another. Nothing outside the mounts' folders is read.
    await (0,promises_.mkdir)(root);
    await (0,external_node_stream_promises_.pipeline)((0,external_node_fs_.createReadStream)(local), tar_fs.extract(root));
    await (0,promises_.rm)(local, { force: true });
    const folders = mounts.map((mount) => mount.readOnly ? undefined : external_node_path_default().join(root, inArchive(mount.target)));
    for (const [index, folder] of folders.entries()) {
        if (folder === undefined)
            continue;
        await (0,promises_.mkdir)(folder, { recursive: true });
        await checkLinks(folder, mounts[index].target);
    }
    // Everything is here, so the release cannot cost the results: the keeper sees the marker
    // and exits at once, and the container's stop can kill the exec's own shell before it answers
    // (exit code 137) or drop the connection. Not awaited, nor tried again: the keeper may be
    // gone already, and it lets go by itself after KEEPER_HOLD_SECONDS anyway.
    void execScript(cluster, pod, KEEPER_CONTAINER, `touch ${COLLECTED_MARKER}`).catch(() => undefined);
    return { folders, dir };
}
/**
 * While the workload runs: a copy of one folder of the pod (`remote`, as the workload sees it),
 * packed by the keeper, fetched and checked as the results are, unpacked into `into` (made
 * anew). Resolves false when the folder is not there.
 */
async function peekFolder(cluster, pod, remote, into, limit) {
    const peekTar = `${CONTROL_DIR}/peek.tar`;
    const script = sendArchive(peekTar, [
        `[ -d ${quote(remote)} ] || { echo none >&2; exit 0; }`,
        `cd ${quote(remote)}`,
        // Claude writes as it goes: GNU tar's 1 ("a file changed as it was read") is a copy still.
        `tar -c -f ${peekTar} . || [ $? -eq 1 ]`,
    ]);
    await (0,promises_.rm)(into, { recursive: true, force: true });
    const localTar = `${into}.tar`;
    try {
        if (!(await fetchArchive(cluster, pod, remote, script, localTar, limit)))
            return false;
        await extractChecked(localTar, into, remote);
    }
    finally {
        await (0,promises_.rm)(localTar, { force: true });
    }
    return true;
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/pod-tracker.ts


/** Waiting reasons that no amount of waiting mends: the run fails at once, with the reason. */
const FATAL_WAITING = new Set([
    'ErrImagePull',
    'ImagePullBackOff',
    'InvalidImageName',
    'ErrImageNeverPull',
    'CreateContainerConfigError',
    'CreateContainerError',
]);
const INITIAL_STATE = {
    pods: new Map(),
    order: [],
    marks: new Map(),
    said: new Set(),
    sent: new Set(),
    released: new Set(),
    stopping: false,
    settled: false,
};
const NO_EXIT = { exitCode: undefined, oomKilled: false };
function track(config, state, event) {
    const { unschedulableSince, collecting, ...rest } = state;
    const draft = {
        ...rest,
        ...(unschedulableSince === undefined ? {} : { unschedulableSince }),
        ...(collecting === undefined ? {} : { collecting }),
        pods: new Map(state.pods),
        order: [...state.order],
        marks: new Map(state.marks),
        said: new Set(state.said),
        sent: new Set(state.sent),
        released: new Set(state.released),
        effects: [],
    };
    switch (event.kind) {
        case 'pod':
            onPod(config, draft, event.change, event.pod, event.now);
            break;
        case 'job':
            onJob(config, draft, event.change, event.job);
            break;
        case 'tick':
            onTick(config, draft, event.now);
            break;
        case 'stopping':
            draft.stopping = true;
            break;
        case 'send-failed':
            if (!draft.stopping)
                fail(draft, event.pod, `sending the workspace failed: ${event.message}`);
            break;
        case 'watch-failed':
            finish(draft, { ...NO_EXIT, error: `watching the ${event.what} failed: ${event.message}` });
            break;
        case 'note':
            sayOnce(draft, event.key, event.message);
            break;
    }
    const { effects, ...next } = draft;
    return { state: next, effects };
}
/** The exit code and OOM flag of the newest pod's workload container, if one ended. */
function lastExit(state) {
    for (const name of [...state.order].reverse()) {
        const terminated = workloadStatus(state.pods.get(name) ?? {})?.state?.terminated;
        if (terminated)
            return { exitCode: terminated.exitCode, oomKilled: terminated.reason === 'OOMKilled' };
    }
    return NO_EXIT;
}
function sayOnce(draft, key, message) {
    if (draft.said.has(key))
        return;
    draft.said.add(key);
    draft.effects.push({ kind: 'log', message });
}
function finish(draft, status) {
    if (draft.settled)
        return;
    draft.settled = true;
    draft.effects.push({ kind: 'finish', status });
}
function fail(draft, pod, reason, exit = NO_EXIT) {
    if (draft.settled)
        return;
    draft.settled = true;
    draft.effects.push({ kind: 'fail', ...(pod ? { pod } : {}), status: { ...exit, error: reason } });
}
function onPod(config, draft, change, pod, now) {
    const name = pod.metadata.name;
    if (!draft.pods.has(name))
        draft.order.push(name);
    if (change !== 'DELETED')
        draft.pods.set(name, pod);
    scheduling(draft, name, pod, now);
    containers(draft, name, pod);
    keeper(config, draft, change, name, pod);
    ending(config, draft, name, pod);
    eviction(draft, name, pod);
}
function scheduling(draft, name, pod, now) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const marks = draft.marks.get(name) ?? { seen: now };
    const state = workloadStatus(pod)?.state;
    const started = state?.running !== undefined || state?.terminated !== undefined;
    draft.marks.set(name, {
        ...marks,
        ...(scheduled?.status === 'True' && marks.scheduled === undefined ? { scheduled: now } : {}),
        ...(started && marks.running === undefined ? { running: now } : {}),
        ...(state?.terminated && marks.ended === undefined ? { ended: now } : {}),
    });
    if (scheduled?.status === 'True') {
        sayOnce(draft, `${name}/scheduled`, `Pod ${name} scheduled on node ${pod.spec?.nodeName}.`);
        delete draft.unschedulableSince;
    }
    else if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
        draft.unschedulableSince ??= now;
        sayOnce(draft, `${name}/unschedulable`, `Pod ${name} cannot be scheduled yet: ${scheduled.message}`);
    }
}
/** The keeper starts first and pulls the same image: a pull failure shows on either. */
function containers(draft, name, pod) {
    const image = pod.spec?.containers[0];
    for (const container of [
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.containerStatuses ?? []),
    ]) {
        const waiting = container.state?.waiting;
        if (waiting?.reason === 'ContainerCreating' || waiting?.reason === 'PodInitializing')
            sayOnce(draft, `${name}/creating`, `Pulling ${image?.image} (pull policy ${image?.imagePullPolicy}) and creating the containers…`);
        if (waiting?.reason && FATAL_WAITING.has(waiting.reason))
            fail(draft, name, `the ${container.name} container cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim());
    }
    if (workloadStatus(pod)?.state?.running)
        sayOnce(draft, `${name}/running`, `Pod ${name} is running.`);
}
function keeper(config, draft, change, name, pod) {
    const running = keeperStatus(pod)?.state?.running !== undefined;
    if (running && !draft.sent.has(name) && change !== 'DELETED') {
        draft.sent.add(name);
        draft.effects.push({ kind: 'send', pod: name });
    }
    // A pod deleted under a running workload (deadline, eviction, someone else): the kubelet
    // stops all its containers at once and reports none ended until all have, so the results
    // cannot be fetched. Let the keeper go at once rather than hold the pod's grace.
    const ended = workloadStatus(pod)?.state?.terminated !== undefined;
    if (pod.metadata?.deletionTimestamp &&
        running &&
        !ended &&
        draft.collecting === undefined &&
        !draft.released.has(name)) {
        draft.released.add(name);
        if (!draft.stopping)
            draft.effects.push({
                kind: 'log',
                message: `Pod ${name} is being deleted before its workload ended: only its log comes back.`,
            });
        draft.effects.push({ kind: 'release', pod: name });
    }
    if (ended && running && config.collects && draft.collecting === undefined && !draft.stopping) {
        draft.collecting = name;
        draft.effects.push({ kind: 'collect', pod: name });
    }
}
function ending(config, draft, name, pod) {
    const terminated = workloadStatus(pod)?.state?.terminated;
    if (!terminated)
        return;
    sayOnce(draft, `${name}/terminated`, `Pod ${name} finished: exit code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}.`);
    // Exit 0 of the newest pod's workload decides the Job: the pod will succeed (a sidecar's exit
    // does not count) and the Job complete. The kubelet and the Job controller take seconds more
    // to say so; the verdict need not wait for them. Any other exit waits for the Job, which may
    // yet retry it as a disruption.
    if (terminated.exitCode === 0 && !pod.metadata?.deletionTimestamp && name === draft.order.at(-1))
        finish(draft, lastExit(draft));
}
/**
 * Evicted by the kubelet (node pressure), or disrupted through the API (eviction, preemption,
 * drain): the podFailurePolicy lets the Job start another pod.
 */
function eviction(draft, name, pod) {
    const disruption = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
    if ((pod.status?.reason !== 'Evicted' && !disruption) || draft.said.has(`${name}/evicted`))
        return;
    sayOnce(draft, `${name}/evicted`, `Pod ${name} was evicted (${disruption?.reason ?? pod.status?.reason}: ${disruption?.message ?? pod.status?.message}); the Job starts it again (a disruption is not counted against its ${DISRUPTION_RETRIES} retries).`);
    draft.effects.push({ kind: 'show-events', pod: name });
}
function onJob(config, draft, change, job) {
    if (change === 'DELETED') {
        finish(draft, { ...lastExit(draft), error: 'the Job was deleted' });
        return;
    }
    const conditions = job.status?.conditions ?? [];
    const holds = (type) => conditions.find((c) => c.type === type && c.status === 'True');
    if (holds('FailureTarget')?.reason === 'DeadlineExceeded')
        sayOnce(draft, 'deadline', `The Job reached its deadline (activeDeadlineSeconds): its pod is stopped.`);
    const failed = holds('Failed');
    const exit = lastExit(draft);
    const newest = draft.order.at(-1);
    const index = config.index;
    if (index !== undefined && indexSet(job.status?.completedIndexes).has(index))
        finish(draft, exit);
    else if (index !== undefined && indexSet(job.status?.failedIndexes).has(index) && !failed) {
        // This index is done for, whatever the others do: its workload's exit, or its retries spent.
        if (exit.exitCode !== undefined)
            finish(draft, exit);
        else
            fail(draft, newest, `index ${index} failed: its retries are spent`, exit);
    }
    if (holds('Complete'))
        finish(draft, exit);
    else if (failed?.reason === 'DeadlineExceeded')
        finish(draft, { ...exit, timedOut: true, error: `DeadlineExceeded: ${failed.message}` });
    else if (failed?.reason === 'BackoffLimitExceeded')
        fail(draft, newest, `the retry budget is spent: ${failed.message}`, exit);
    else if (failed)
        finish(draft, {
            ...exit,
            ...(exit.exitCode === undefined ? { error: `${failed.reason}: ${failed.message}` } : {}),
        });
}
function onTick(config, draft, now) {
    if (draft.unschedulableSince !== undefined &&
        now - draft.unschedulableSince > config.schedulingTimeoutMs)
        fail(draft, draft.order.at(-1), `the pod could not be scheduled within ${config.schedulingTimeoutMs / 1000}s`);
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/pod-workload.ts
/**
 * One run's Job as the engine sees it, a RunningWorkload: its pods and the Job followed by
 * watches (shared by an Indexed Job's shards), the workspace sent in and the results brought
 * back through the keeper, the log followed, and the verdict taken from the workload
 * container's own state.
 */














/**
 * How long a pod may stay unschedulable before the run fails, saying why (the runner's
 * COOK_ACTION_SCHEDULING_TIMEOUT, in seconds, changes it).
 */
const SCHEDULING_TIMEOUT_MS = 120_000;
/**
 * A Job that was started: its pods and the Job followed by the watches of job-events.ts, shared
 * by the Job's workloads. What they see goes through the pod tracker (pod-tracker.ts); this
 * class carries out the tracker's effects.
 */
class KubernetesWorkload {
    cluster;
    log;
    options;
    id;
    enforcesTimeout;
    stop$ = new AbortController();
    state = INITIAL_STATE;
    config;
    listeners = [];
    unsubscribe;
    verdict;
    settle;
    collecting;
    copyBackSeconds;
    scratch = (0,external_node_fs_.mkdtempSync)(external_node_path_default().join(external_node_os_default().tmpdir(), 'cook-transfer-'));
    /**
     * Follows Job `name` through `events`, the watches it shares with the Job's other workloads
     * (an Indexed Job's other shards): given only the pods of `options.index`, when set.
     */
    constructor(cluster, name, events, log, options) {
        this.cluster = cluster;
        this.log = log;
        this.options = options;
        this.id = name;
        this.enforcesTimeout = options.enforcesTimeout;
        this.config = {
            collects: options.mounts.length > 0,
            schedulingTimeoutMs: options.schedulingTimeoutMs,
            ...(options.index === undefined ? {} : { index: options.index }),
        };
        this.verdict = new Promise((resolve) => (this.settle = resolve));
        this.unsubscribe = events.subscribe(options.index, (event) => this.dispatch(event));
    }
    dispatch(event) {
        const step = track(this.config, this.state, event);
        this.state = step.state;
        for (const effect of step.effects)
            this.perform(effect);
        this.changed();
    }
    perform(effect) {
        switch (effect.kind) {
            case 'log':
                return this.log(effect.message);
            case 'send':
                return void this.sendWorkspace(effect.pod);
            case 'collect':
                this.collecting = this.collectResults(effect.pod);
                return;
            case 'release':
                return void execScript(this.cluster, effect.pod, KEEPER_CONTAINER, `touch ${COLLECTED_MARKER}`).catch(() => undefined);
            case 'show-events':
                return void this.logEvents(effect.pod);
            case 'finish':
                return void this.giveVerdict(effect.status, this.collecting);
            case 'fail':
                return void this.giveVerdict(effect.status, effect.pod ? this.logEvents(effect.pod).then(() => undefined) : undefined);
        }
    }
    /** Gives the verdict once `first` is done; an error it resolves with joins the verdict. */
    async giveVerdict(status, first) {
        const resultsError = first ? await first : undefined;
        this.settle(resultsError ? { ...status, resultsError } : status);
        this.changed();
    }
    changed() {
        for (const listener of this.listeners.splice(0))
            listener();
    }
    /** Resolves at the next change of a pod or the Job. */
    nextChange() {
        return new Promise((resolve) => this.listeners.push(resolve));
    }
    /**
     * The newest pod's phases as this runner saw them, the kubelet's own pull time from the pod's
     * events, and the counters the workload's shell left in its termination message.
     */
    async metrics() {
        const name = this.state.order.at(-1);
        const marks = name ? this.state.marks.get(name) : undefined;
        const seconds = (from, to) => from !== undefined && to !== undefined && to >= from ? (to - from) / 1000 : undefined;
        const phases = {
            schedule_seconds: seconds(marks?.seen, marks?.scheduled),
            start_seconds: seconds(marks?.scheduled, marks?.running),
            run_seconds: seconds(marks?.running, marks?.ended),
            copy_back_seconds: this.copyBackSeconds,
        };
        // A busy API server must not cost the counters: the events get three seconds.
        if (name)
            phases.pull_seconds = await Promise.race([
                pullSeconds(this.cluster, name).catch(() => undefined),
                new Promise((resolve) => setTimeout(() => resolve(undefined), 3000).unref()),
            ]);
        const terminated = name
            ? workloadStatus(this.state.pods.get(name) ?? {})?.state?.terminated
            : undefined;
        // An out-of-memory kill can take the counting shell too: the engine puts the peak at the
        // limit then (engine/verdict.ts).
        const usage = (0,runtime_usage/* parseUsage */.Zb)(terminated?.message);
        return {
            phases: Object.fromEntries(Object.entries(phases).filter((entry) => entry[1] !== undefined)),
            ...(usage ? { usage } : {}),
        };
    }
    async sendWorkspace(pod) {
        if (this.options.mounts.length === 0) {
            // Nothing to send: the keeper is ready at once.
            await execReady(this.cluster, pod).catch(() => undefined);
            return;
        }
        const started = Date.now();
        try {
            // A dropped exec connection sends it all again: unpacking over a partial copy is safe,
            // and the keeper reports ready only at the end.
            await withRetries('Sending the workspace', () => sendMounts(this.cluster, pod, this.options.mounts, this.scratch, this.log, this.options.limit));
            this.log(`The workspace is in pod ${pod} (${((Date.now() - started) / 1000).toFixed(1)}s).`);
        }
        catch (error) {
            this.dispatch({ kind: 'send-failed', pod, message: apiMessage(error) });
        }
    }
    /** Brings back what the run made; resolves with an error message, or undefined when all came. */
    async collectResults(pod) {
        const started = Date.now();
        try {
            // Packed and fetched again after a dropped exec connection: the keeper holds the pod
            // until the last step marks the results collected.
            const collected = await withRetries('Bringing back the results', () => collectMounts(this.cluster, pod, this.options.mounts, this.scratch, this.options.limit));
            await applyCollected(collected, this.options.mounts, this.options.workspace);
            this.copyBackSeconds = (Date.now() - started) / 1000;
            this.log(`Brought back what the run made from pod ${pod} (${this.copyBackSeconds.toFixed(1)}s).`);
            return undefined;
        }
        catch (error) {
            const message = apiMessage(error);
            this.log(`Bringing back what the run made from pod ${pod} failed: ${message}`);
            return message;
        }
    }
    async logEvents(pod) {
        try {
            const events = await this.cluster.core.listNamespacedEvent({
                namespace: this.cluster.namespace,
                fieldSelector: `involvedObject.name=${pod}`,
            });
            this.log(`Events of pod ${pod}:`);
            for (const e of events.items)
                this.log(`  ${e.type} ${e.reason}: ${e.message}`);
        }
        catch (error) {
            this.log(`Reading the events of pod ${pod} failed: ${apiMessage(error)}`);
        }
    }
    wait() {
        return this.verdict;
    }
    /** The workload container's log of each pod in turn, the newest attempt last. */
    async output(onChunk, signal) {
        for (let index = 0; !signal?.aborted;) {
            const name = this.state.order[index];
            if (name === undefined) {
                if (this.state.settled)
                    return;
                await this.nextChange();
                continue;
            }
            const pod = this.state.pods.get(name);
            const state = pod ? workloadStatus(pod)?.state : undefined;
            if (state?.running || state?.terminated) {
                await this.followLog(name, index++, onChunk, signal);
            }
            else if (this.state.settled || !pod || pod.status?.phase === 'Failed') {
                // Never started, and never will: a pod that never starts has no log to read.
                index++;
            }
            else {
                await this.nextChange();
            }
        }
    }
    async followLog(name, attempt, onChunk, signal) {
        if (this.state.order.length > 1 || attempt > 0)
            this.log(`── output of pod ${name} (attempt ${attempt + 1}) ──`);
        await followPodLog({
            open: (request, s) => openPodLog(this.cluster, name, WORKLOAD_CONTAINER, request, s),
            running: async () => {
                const current = this.state.pods.get(name);
                return (current !== undefined &&
                    !workloadStatus(current)?.state?.terminated &&
                    !this.stop$.signal.aborted);
            },
        }, (line) => onChunk({ stream: 'stdout', data: line }), {
            ...(signal ? { signal } : {}),
            onNotice: (text) => this.dispatch({
                kind: 'note',
                key: `${name}/log:${text}`,
                message: `The log of pod ${name}: ${text}`,
            }),
        }).catch((error) => this.log(`Reading the log of pod ${name} failed: ${apiMessage(error)}`));
    }
    /** A copy of a folder of the pod whose workload runs now, packed by its keeper. */
    async peek(target) {
        const { order, pods, settled, stopping } = this.state;
        const running = [...order].reverse().find((name) => {
            const pod = pods.get(name);
            return pod !== undefined && workloadStatus(pod)?.state?.running !== undefined;
        });
        if (!running || settled || stopping)
            return undefined;
        const into = external_node_path_default().join(this.scratch, 'peek');
        const found = await peekFolder(this.cluster, running, target, into, this.options.limit);
        return found ? into : undefined;
    }
    async stop(graceSeconds) {
        this.dispatch({ kind: 'stopping' });
        await deleteJob(this.cluster, this.id, graceSeconds);
    }
    close() {
        this.unsubscribe();
        this.stop$.abort();
        this.changed();
        (0,external_node_fs_.rmSync)(this.scratch, { recursive: true, force: true });
    }
}
/** The kubelet's "Successfully pulled image … in 1.2s" for the pod's first container; 0 when present. */
async function pullSeconds(cluster, pod) {
    const events = await cluster.core.listNamespacedEvent({
        namespace: cluster.namespace,
        fieldSelector: `involvedObject.name=${pod}`,
    });
    const pulled = events.items
        .filter((e) => e.reason === 'Pulled')
        .sort((a, b) => eventTime(a) - eventTime(b))[0];
    if (!pulled?.message)
        return undefined;
    if (/already present/i.test(pulled.message))
        return 0;
    const took = / in ((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)/.exec(pulled.message);
    return took ? goDuration(took[1]) : undefined;
}

;// CONCATENATED MODULE: ./src/runtime/kubernetes/kubernetes-runtime.ts
/** The Kubernetes runtime: one Job on the cluster a kubeconfig names, followed with watches. */









function createKubernetesRuntime(options) {
    return new KubernetesRuntime(options);
}
class KubernetesRuntime {
    options;
    kind = 'kubernetes';
    cluster;
    log = () => { };
    created = {};
    workloads = [];
    closed = false;
    constructor(options) {
        this.options = options;
    }
    jobOptions(namespace, spec, indexed) {
        return {
            ...(indexed ? { indexed } : {}),
            ...(spec.workflowFile
                ? { workflowContent: (0,external_node_fs_.readFileSync)(spec.workflowFile.host, 'utf8') }
                : {}),
            namespace,
            target: this.options.target,
            submittedAt: (this.options.now ?? (() => new Date()))(),
        };
    }
    describe(spec) {
        const namespace = this.options.target.namespace ?? 'default';
        const { job, secret, configMap } = buildJobObjects(spec, this.jobOptions(namespace, spec));
        const documents = [job];
        if (configMap)
            documents.push(configMap);
        if (secret) {
            const hidden = Object.fromEntries(Object.keys(secret.stringData ?? {}).map((key) => [key, '***']));
            documents.push({ ...secret, stringData: hidden });
        }
        return documents.map((doc) => (0,dist/* stringify */.As)(doc).trimEnd()).join('\n---\n');
    }
    connected() {
        if (!this.cluster)
            this.cluster = connect(this.options.target);
        return this.cluster;
    }
    async prepare(_spec, log) {
        this.log = log;
        log(await this.connect());
    }
    /** Connects and checks the API server and every permission the run needs; says so. */
    async connect() {
        const cluster = this.connected();
        const version = await preflight(cluster);
        return `Connected to ${cluster.server} (Kubernetes ${version}), namespace ${cluster.namespace}; the credentials may do all the run needs.`;
    }
    async start(spec) {
        const { name, suspended } = await this.createJob(spec);
        const workload = this.follow(name, this.events(name), spec, this.log);
        if (suspended)
            await this.unsuspend(name);
        return workload;
    }
    /**
     * One Indexed Job for several shards' specs, alike but for their mounts (each shard's own
     * checkout and exchange folder): index i runs specs[i] and is followed by workload i.
     */
    async startIndexed(specs, indexed, logs) {
        // What happens to the one Job concerns every shard.
        this.log = (message) => {
            for (const log of logs)
                log(message);
        };
        const { name, suspended } = await this.createJob(specs[0], indexed);
        logs.forEach((log, index) => log(`Index ${index} of Indexed Job ${name} runs this shard (${indexed.parallelism} at a time).`));
        // One watch of the pods, one of the Job and one clock for every index: each workload is
        // given its own index's pods.
        const events = this.events(name);
        const workloads = specs.map((spec, index) => this.follow(name, events, spec, logs[index], index));
        if (suspended)
            await this.unsuspend(name);
        return workloads;
    }
    events(name) {
        return new JobEvents({ cluster: this.connected(), name });
    }
    follow(name, events, spec, log, index) {
        const workload = new KubernetesWorkload(this.connected(), name, events, log, {
            mounts: spec.mounts,
            workspace: spec.workdir,
            limit: spec.transferLimit,
            enforcesTimeout: spec.timeoutMs !== undefined,
            schedulingTimeoutMs: spec.schedulingTimeoutMs ?? SCHEDULING_TIMEOUT_MS,
            ...(index === undefined ? {} : { index }),
        });
        this.workloads.push(workload);
        return workload;
    }
    /** Started only once its Secret and ConfigMap exist: its pods need them. */
    async unsuspend(name) {
        const cluster = this.connected();
        await withRetries(`Starting Job ${name}`, () => cluster.batch.patchNamespacedJob({
            name,
            namespace: cluster.namespace,
            body: [{ op: 'replace', path: '/spec/suspend', value: false }],
        }));
    }
    /**
     * Creates the Job, then its Secret and ConfigMap at once, owned by it: three round trips with
     * the start, one when the pod needs neither (the Job then starts at once).
     */
    async createJob(spec, indexed) {
        if (this.closed)
            throw new Error('The run was cleaned up; nothing more is created.');
        const cluster = this.connected();
        const { namespace } = cluster;
        const { job, secret, configMap } = buildJobObjects(spec, this.jobOptions(namespace, spec, indexed));
        const name = job.metadata.name;
        const created = await withRetries(`Creating Job ${name}`, () => cluster.batch.createNamespacedJob({ namespace, body: job }));
        this.created.job = name;
        this.log(`Created Job ${name} in namespace ${namespace}.`);
        const owner = [
            { apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata.uid, controller: false },
        ];
        await Promise.all([
            secret &&
                withRetries(`Creating Secret ${secret.metadata.name}`, () => cluster.core.createNamespacedSecret({
                    namespace,
                    body: { ...secret, metadata: { ...secret.metadata, ownerReferences: owner } },
                })).then(() => (this.created.secret = secret.metadata.name)),
            configMap &&
                withRetries(`Creating ConfigMap ${configMap.metadata.name}`, () => cluster.core.createNamespacedConfigMap({
                    namespace,
                    body: { ...configMap, metadata: { ...configMap.metadata, ownerReferences: owner } },
                })).then(() => (this.created.configMap = configMap.metadata.name)),
        ]);
        return { name, suspended: job.spec?.suspend === true };
    }
    async cleanup() {
        this.closed = true;
        const cluster = this.cluster;
        if (!cluster)
            return;
        const failures = [];
        if (this.created.job) {
            await deleteJob(cluster, this.created.job, 0).catch((error) => failures.push(`Job ${this.created.job}: ${apiMessage(error)}`));
        }
        if (this.created.secret) {
            await ignoreNotFound(() => cluster.core.deleteNamespacedSecret({
                name: this.created.secret,
                namespace: cluster.namespace,
            })).catch((error) => failures.push(`Secret ${this.created.secret}: ${apiMessage(error)}`));
        }
        if (this.created.configMap) {
            await ignoreNotFound(() => cluster.core.deleteNamespacedConfigMap({
                name: this.created.configMap,
                namespace: cluster.namespace,
            })).catch((error) => failures.push(`ConfigMap ${this.created.configMap}: ${apiMessage(error)}`));
        }
        for (const workload of this.workloads.splice(0))
            workload.close();
        if (this.created.job)
            await waitGone(cluster, this.created.job, 10_000);
        if (failures.length > 0)
            throw new Error(`Could not delete ${failures.join('; ')}`);
    }
    async sweep(runId) {
        const cluster = this.connected();
        const labelSelector = `${config_names/* Labels */.gC.run}=${runId}`;
        const removed = [];
        const jobs = await cluster.batch.listNamespacedJob({
            namespace: cluster.namespace,
            labelSelector,
        });
        for (const job of jobs.items) {
            await deleteJob(cluster, job.metadata.name, 0);
            removed.push(`Job ${job.metadata.name}`);
        }
        // The Secret and ConfigMap go by the names the Job's gives them (manifest.ts), never by a
        // listing: the Role needs no 'list secrets', which would read every Secret in the namespace.
        const names = new Set([jobName(runId), ...jobs.items.map((job) => job.metadata.name)]);
        for (const job of names) {
            const secret = `${job}-secrets`;
            const configMap = `${job}-workflow`;
            if (await deletedIfAny(() => cluster.core.deleteNamespacedSecret({ name: secret, namespace: cluster.namespace }))) {
                removed.push(`Secret ${secret}`);
            }
            if (await deletedIfAny(() => cluster.core.deleteNamespacedConfigMap({ name: configMap, namespace: cluster.namespace }))) {
                removed.push(`ConfigMap ${configMap}`);
            }
        }
        const pods = await cluster.core.listNamespacedPod({
            namespace: cluster.namespace,
            labelSelector,
        });
        for (const pod of pods.items) {
            await ignoreNotFound(() => cluster.core.deleteNamespacedPod({
                name: pod.metadata.name,
                namespace: cluster.namespace,
                gracePeriodSeconds: 0,
            }));
            removed.push(`pod ${pod.metadata.name}`);
        }
        return removed;
    }
}


/***/ }),

/***/ 97221:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   YD: () => (/* binding */ isConnectionDrop),
/* harmony export */   bw: () => (/* binding */ reconcileLog),
/* harmony export */   uL: () => (/* binding */ timestampNanos),
/* harmony export */   zu: () => (/* binding */ LogCursor)
/* harmony export */ });
/**
 * Where a followed log got to, so that a read resumed after a dropped connection delivers each
 * message once (ARCHITECTURE.md, rule 2). Docker's `since` and Kubernetes' `sinceTime` are
 * inclusive (and sinceTime is whole seconds), so a resumed read starts at or before the last
 * message seen: the cursor drops what comes before it and the messages already delivered at its
 * exact timestamp.
 */
class LogCursor {
    last;
    /** Messages already delivered that carry exactly the timestamp `last`. */
    deliveredAtLast = 0;
    /** Nanoseconds since the epoch of the last message delivered. */
    get position() {
        return this.last;
    }
    /** Starts a read from the current position; the returned test says whether a message is new. */
    resume() {
        const from = this.last;
        let skip = this.deliveredAtLast;
        return (stamp) => {
            if (from !== undefined && stamp < from)
                return false;
            if (from !== undefined && stamp === from && skip > 0) {
                skip--;
                return false;
            }
            if (stamp === this.last)
                this.deliveredAtLast++;
            else {
                this.last = stamp;
                this.deliveredAtLast = 1;
            }
            return true;
        };
    }
}
/** Nanoseconds since the epoch of an RFC 3339 timestamp with up to 9 fractional digits. */
function timestampNanos(text) {
    const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
    if (!match)
        return undefined;
    const seconds = Date.parse(`${match[1]}${match[3]}`);
    if (Number.isNaN(seconds))
        return undefined;
    const fraction = (match[2] ?? '').padEnd(9, '0');
    return BigInt(seconds) * 1000000n + BigInt(fraction);
}
const TAIL_ATTEMPTS = 5;
/**
 * Follows until the workload has ended, then reads the tail once more. The end of a followed
 * stream is not the end of the workload (Docker and the API server both close followed logs
 * early): it is followed again while it runs, and a dropped read is resumed like any other.
 */
async function reconcileLog(options) {
    const pause = () => new Promise((resolve) => setTimeout(resolve, options.retryDelayMs));
    for (;;) {
        if (options.signal?.aborted)
            break;
        try {
            await options.readOnce(true);
        }
        catch (error) {
            if (options.signal?.aborted)
                break;
            if (!isConnectionDrop(error))
                throw error;
            await pause();
        }
        if (!(await options.running()))
            break;
    }
    for (let attempt = 1;; attempt++) {
        try {
            await options.readOnce(false);
            return;
        }
        catch (error) {
            if (!isConnectionDrop(error) || attempt >= TAIL_ATTEMPTS)
                throw error;
            await pause();
        }
    }
}
/** A log connection that broke, rather than a request the server refused. */
function isConnectionDrop(error) {
    const code = error.code;
    return (code === 'ECONNRESET' ||
        code === 'EPIPE' ||
        code === 'ECONNREFUSED' ||
        code === 'ETIMEDOUT' ||
        code === 'ERR_STREAM_PREMATURE_CLOSE' ||
        (typeof code === 'number' && (code === 429 || code >= 500)) ||
        error.name === 'AbortError');
}


/***/ }),

/***/ 46023:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Zb: () => (/* binding */ parseUsage),
/* harmony export */   nY: () => (/* binding */ usageWrapper)
/* harmony export */ });
/* unused harmony export USAGE_HEADER */
/** The first line of the termination message that carries counters. */
const USAGE_HEADER = 'cook-action usage 1';
/** `sh -c <wrapper> cook-workload <argv...>` runs argv and leaves its counters in `target`. */
function usageWrapper(target) {
    return WRAPPER.replace('HEADER', USAGE_HEADER).replace('TARGET', target);
}
const WRAPPER = [
    '"$@" &',
    'c=$!',
    "trap 'kill -TERM $c 2>/dev/null' TERM",
    "trap 'kill -INT $c 2>/dev/null' INT",
    'wait $c',
    's=$?',
    'while kill -0 $c 2>/dev/null; do wait $c; s=$?; done',
    'usage() {',
    '  g=/sys/fs/cgroup',
    "  echo 'HEADER'",
    '  if [ -f $g/cpu.stat ]; then',
    '    while read k v; do [ "$k" = usage_usec ] && echo "cpu_usec $v"; done < $g/cpu.stat',
    '    [ -f $g/memory.peak ] && read v < $g/memory.peak && echo "memory_peak $v"',
    '    if [ -f $g/io.stat ]; then',
    '      r=0; w=0',
    '      while read d rest; do',
    '        for kv in $rest; do',
    '          case $kv in rbytes=*) r=$((r + ${kv#rbytes=})) ;; wbytes=*) w=$((w + ${kv#wbytes=})) ;; esac',
    '        done',
    '      done < $g/io.stat',
    '      echo "io $r $w"',
    '    fi',
    '  else',
    '    for f in $g/cpuacct/cpuacct.usage $g/cpu,cpuacct/cpuacct.usage $g/cpuacct,cpu/cpuacct.usage; do',
    '      [ -f $f ] && read v < $f && echo "cpu_nsec $v" && break',
    '    done',
    '    f=$g/memory/memory.max_usage_in_bytes',
    '    [ -f $f ] && read v < $f && echo "memory_peak $v"',
    '    f=$g/blkio/blkio.throttle.io_service_bytes',
    '    if [ -f $f ]; then',
    '      r=0; w=0',
    '      while read d op v; do case $op in Read) r=$((r + v)) ;; Write) w=$((w + v)) ;; esac; done < $f',
    '      echo "io $r $w"',
    '    fi',
    '  fi',
    '  rx=0; tx=0',
    '  while read l; do',
    '    case $l in',
    '      *:*)',
    '        n=${l%%:*}; n=${n##* }',
    '        set -- ${l#*:}',
    '        [ "$n" = lo ] || { rx=$((rx + $1)); tx=$((tx + $9)); } ;;',
    '    esac',
    '  done < /proc/net/dev',
    '  echo "net $rx $tx"',
    '}',
    'usage > TARGET 2>/dev/null',
    'exit $s',
]
    .join('\n')
    .replace('HEADER', USAGE_HEADER);
/** A termination message → usage; undefined when it is not ours (or says nothing). */
function parseUsage(message) {
    if (!message)
        return undefined;
    const lines = message.split('\n');
    if (lines[0]?.trim() !== USAGE_HEADER)
        return undefined;
    const usage = { source: 'cgroup' };
    for (const line of lines.slice(1)) {
        const [key, ...values] = line.trim().split(/\s+/);
        const numbers = values.map(Number);
        if (numbers.some((n) => !Number.isFinite(n)))
            continue;
        if (key === 'cpu_usec')
            usage.cpuSeconds = numbers[0] / 1e6;
        if (key === 'cpu_nsec')
            usage.cpuSeconds = numbers[0] / 1e9;
        if (key === 'memory_peak')
            usage.memoryPeakBytes = numbers[0];
        if (key === 'io' && numbers.length === 2) {
            usage.blockReadBytes = numbers[0];
            usage.blockWriteBytes = numbers[1];
        }
        if (key === 'net' && numbers.length === 2) {
            usage.networkRxBytes = numbers[0];
            usage.networkTxBytes = numbers[1];
        }
    }
    return usage;
}


/***/ })

};

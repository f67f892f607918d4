import { fileURLToPath as __cookFileURLToPath } from 'node:url';
const __dirname = __cookFileURLToPath(new URL('.', import.meta.url));
export const id = 472;
export const ids = [472];
export const modules = {

/***/ 81472:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  containerCreateOptions: () => (/* binding */ containerCreateOptions),
  createDockerClient: () => (/* binding */ createDockerClient),
  createDockerRuntime: () => (/* binding */ createDockerRuntime)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./node_modules/dockerode/lib/docker.js
var docker = __webpack_require__(39040);
var docker_default = /*#__PURE__*/__webpack_require__.n(docker);
// EXTERNAL MODULE: ./src/config/names.ts
var names = __webpack_require__(86234);
// EXTERNAL MODULE: ./node_modules/p-retry/index.js + 1 modules
var p_retry = __webpack_require__(74995);
// EXTERNAL MODULE: ./src/runtime/log-cursor.ts
var log_cursor = __webpack_require__(97221);
;// CONCATENATED MODULE: ./src/runtime/docker/engine.ts


/** An attempt of a short call (inspect, stop, remove, list) that takes longer was lost. */
const CALL_DEADLINE_MS = 30_000;
const CALL_RETRIES = 6;
class LostCall extends Error {
    code = 'ECONNRESET';
}
/** Resolves with the call, or rejects as a dropped connection once the deadline has passed. */
function withinDeadline(call, ms, what) {
    let timer;
    return Promise.race([
        call,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new LostCall(`${what}: no answer within ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}
/**
 * Runs an idempotent engine call, re-issuing it after a dropped or silent connection; the
 * engine's own refusals (4xx) fail at once.
 */
async function engineCall(what, call, options = {}) {
    return (0,p_retry/* default */.Ay)(async () => {
        try {
            return await withinDeadline(call(), options.deadlineMs ?? CALL_DEADLINE_MS, what);
        }
        catch (error) {
            if (!(0,log_cursor/* isConnectionDrop */.YD)(error))
                throw new p_retry/* AbortError */.lc(error);
            throw error;
        }
    }, { retries: options.retries ?? CALL_RETRIES, minTimeout: 100, maxTimeout: 2000, factor: 2 });
}
/**
 * Docker's `wait` (condition not-running): returns at once for a container that has ended, so
 * asking again after a drop is always safe. Re-issued for as long as connections drop; a 404 or
 * another refusal is thrown.
 */
async function waitForExit(modem, id, retryDelayMs = 200) {
    for (let attempt = 0;; attempt++) {
        try {
            return await waitOnce(modem, id);
        }
        catch (error) {
            if (!(0,log_cursor/* isConnectionDrop */.YD)(error))
                throw error;
            await new Promise((resolve) => setTimeout(resolve, Math.min(2000, retryDelayMs * 2 ** attempt)));
        }
    }
}
function waitOnce(modem, id) {
    return new Promise((resolve, reject) => {
        modem.dial({
            path: `/containers/${encodeURIComponent(id)}/wait?condition=not-running`,
            method: 'POST',
            isStream: true,
            statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        }, (error, result) => {
            if (error)
                return reject(error);
            const stream = result;
            const chunks = [];
            let settled = false;
            const drop = (cause) => {
                if (settled)
                    return;
                settled = true;
                reject(Object.assign(new Error('the wait connection dropped before the engine answered'), {
                    code: 'ECONNRESET',
                    cause,
                }));
            };
            stream.on('data', (chunk) => chunks.push(chunk));
            stream.on('error', drop);
            stream.on('close', () => {
                if (settled)
                    return;
                // 'close' after a complete body follows 'end'; a body cut short never parses.
                const text = Buffer.concat(chunks).toString('utf8');
                try {
                    const body = JSON.parse(text);
                    settled = true;
                    resolve({
                        statusCode: typeof body.StatusCode === 'number' ? body.StatusCode : undefined,
                        ...(body.Error?.Message ? { error: body.Error.Message } : {}),
                    });
                }
                catch {
                    drop();
                }
            });
        });
    });
}

// EXTERNAL MODULE: ./src/runtime/docker/errors.ts
var errors = __webpack_require__(68462);
// EXTERNAL MODULE: ./src/runtime/docker/image.ts
var docker_image = __webpack_require__(73148);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
;// CONCATENATED MODULE: ./src/runtime/docker/log-follower.ts
/**
 * Docker logs as a reconciliation loop (ARCHITECTURE.md, rule 2): follow with timestamps from the
 * first byte, resume after a dropped connection from the last timestamp seen without repeating a
 * message, and read the tail once more after the container has exited.
 */



/** The unfollowed read of the tail is short; past this it counts as a dropped connection. */
const TAIL_DEADLINE_MS = 120_000;
const TAIL_PIECE_BYTES = 16 * 1024;
/** Docker's `since` query form: seconds.nanoseconds. */
function sinceParameter(nanos) {
    const seconds = nanos / 1000000000n;
    const rest = (nanos % 1000000000n).toString().padStart(9, '0');
    return `${seconds}.${rest}`;
}
function dockerLogSource(container, modem) {
    return {
        async open(follow, since, signal) {
            const options = {
                stdout: true,
                stderr: true,
                timestamps: true,
                since: since === undefined ? 0 : sinceParameter(since),
                ...(signal ? { abortSignal: signal } : {}),
            };
            if (follow)
                return (await container.logs({ ...options, follow: true }));
            // A drop mid-body would leave this pending (engine.ts): bounded, and then read again.
            const buffer = await engineCall('logs', () => container.logs({ ...options, follow: false }), {
                deadlineMs: TAIL_DEADLINE_MS,
                retries: 0,
            });
            // In pieces: docker-modem's demuxer recurses once per frame of a chunk, and a tail of a
            // hundred thousand short lines in one chunk overflows the stack.
            const pieces = [];
            for (let at = 0; at < buffer.length; at += TAIL_PIECE_BYTES) {
                pieces.push(buffer.subarray(at, at + TAIL_PIECE_BYTES));
            }
            return external_node_stream_.Readable.from(pieces);
        },
        async running() {
            const info = await engineCall('inspect', () => container.inspect());
            return info.State.Running || info.State.Restarting;
        },
        demux(stream, onFrame) {
            // Each write is one frame, and the daemon writes one log message per frame, which keeps
            // the timestamp of a message next to its text even for 16 KiB pieces of a long line.
            modem.demuxStream(stream, {
                write: (payload) => onFrame('stdout', payload),
            }, {
                write: (payload) => onFrame('stderr', payload),
            });
        },
    };
}
/** Delivers every message once, in order, until the container has exited and the tail is read. */
async function followLogs(source, onChunk, options = {}) {
    const cursor = new log_cursor/* LogCursor */.zu();
    const readOnce = async (follow) => {
        const isNew = cursor.resume();
        const from = cursor.position;
        // The tail is read even after cancellation: it is short, and nothing written may be lost.
        const stream = await source.open(follow, from, follow ? options.signal : undefined);
        await new Promise((resolve, reject) => {
            source.demux(stream, (name, payload) => {
                const space = payload.indexOf(0x20);
                const stamp = space > 0 ? (0,log_cursor/* timestampNanos */.uL)(payload.subarray(0, space).toString('latin1')) : undefined;
                if (stamp === undefined)
                    onChunk({ stream: name, data: payload });
                else if (isNew(stamp))
                    onChunk({ stream: name, data: payload.subarray(space + 1) });
            });
            stream.once('end', resolve);
            stream.once('close', resolve);
            // on, not once: a destroyed HTTP stream may report its error more than once.
            stream.on('error', reject);
        });
    };
    await (0,log_cursor/* reconcileLog */.bw)({
        readOnce,
        running: () => source.running(),
        ...(options.signal ? { signal: options.signal } : {}),
        retryDelayMs: options.retryDelayMs ?? 200,
    });
}

;// CONCATENATED MODULE: ./src/runtime/docker/attach.ts

/** How long the container may take to stop running once its attachment ended of itself. */
const EXIT_AFTER_END_MS = 2_000;
const EXIT_POLL_MS = 50;
/** Attaches to the container's stdout and stderr; undefined when the engine refuses. */
async function attachOutput(container) {
    try {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        return stream;
    }
    catch {
        return undefined;
    }
}
/**
 * Splits Docker's multiplexed stream (an 8-byte header: the stream, then the length) into its
 * frames. A frame within one chunk is passed on as a view of it; only a frame split across
 * chunks is copied.
 */
class FrameReader {
    onFrame;
    /** The header being read, `headerBytes` of it so far (one per frame: no allocation). */
    header = Buffer.alloc(8);
    headerBytes = 0;
    stream;
    left = 0;
    pieces = [];
    constructor(onFrame) {
        this.onFrame = onFrame;
    }
    push(chunk) {
        let at = 0;
        while (at < chunk.length) {
            if (this.stream === undefined) {
                const copied = chunk.copy(this.header, this.headerBytes, at, at + 8 - this.headerBytes);
                at += copied;
                this.headerBytes += copied;
                if (this.headerBytes < 8)
                    return;
                this.headerBytes = 0;
                // 0 is stdin, never sent back; anything else but 2 is taken as stdout.
                this.stream = this.header[0] === 2 ? 'stderr' : 'stdout';
                this.left = this.header.readUInt32BE(4);
                if (this.left === 0)
                    this.stream = undefined;
                continue;
            }
            const take = Math.min(this.left, chunk.length - at);
            this.pieces.push(chunk.subarray(at, at + take));
            at += take;
            this.left -= take;
            if (this.left === 0) {
                const payload = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces);
                const stream = this.stream;
                this.pieces = [];
                this.stream = undefined;
                this.onFrame(stream, payload);
            }
        }
    }
}
/** Resolves with whether the stream ended of itself (true) or was broken or aborted (false). */
function readAttached(attached, reader, signal) {
    return new Promise((resolve) => {
        const done = (clean) => {
            signal?.removeEventListener('abort', aborted);
            resolve(clean);
        };
        const aborted = () => {
            attached.destroy();
            done(false);
        };
        if (signal?.aborted)
            return aborted();
        signal?.addEventListener('abort', aborted, { once: true });
        attached.on('data', (chunk) => reader.push(chunk));
        attached.once('end', () => done(true));
        attached.once('close', () => done(false));
        attached.on('error', () => done(false));
    });
}
async function stopsRunning(source, withinMs) {
    const until = Date.now() + withinMs;
    for (;;) {
        if (!(await source.running().catch(() => true)))
            return true;
        if (Date.now() >= until)
            return false;
        await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
}
/**
 * Relays the attachment to its end. It ends of itself when the container's output closes, and
 * the container then stops running at once: the output is whole. Otherwise (broken, or the
 * container runs on) the log is followed, without the bytes already relayed. What this cannot
 * tell apart: a connection cut in the very moment the container exits, which ends like the
 * daemon's own close; its last bytes would then be missing.
 */
async function relayAttached(attached, source, onChunk, signal) {
    const relayed = { stdout: 0, stderr: 0 };
    const reader = new FrameReader((stream, data) => {
        relayed[stream] += data.length;
        onChunk({ stream, data });
    });
    const ended = await readAttached(attached, reader, signal);
    if (signal?.aborted)
        return;
    if (ended && (await stopsRunning(source, EXIT_AFTER_END_MS)))
        return;
    await followLogs(source, skipping(relayed, onChunk), signal ? { signal } : {});
}
/** onChunk without the first bytes of each stream (those the attachment delivered). */
function skipping(counts, onChunk) {
    const left = { ...counts };
    return ({ stream, data }) => {
        const skip = Math.min(left[stream], data.length);
        left[stream] -= skip;
        if (skip < data.length)
            onChunk({ stream, data: data.subarray(skip) });
    };
}

;// CONCATENATED MODULE: ./src/runtime/docker/stats.ts
/** Folds samples into a usage; pure, so it is tested on recorded samples. */
class StatsAccumulator {
    cpuNanos;
    memoryPeak;
    network;
    block;
    samples = 0;
    add(sample) {
        // A stopped container's sample is all zeros: it must not undo the totals.
        if (!sample.read || sample.read.startsWith('0001-'))
            return;
        this.samples++;
        const cpu = sample.cpu_stats?.cpu_usage?.total_usage;
        if (typeof cpu === 'number' && cpu > (this.cpuNanos ?? -1))
            this.cpuNanos = cpu;
        const memory = Math.max(sample.memory_stats?.usage ?? 0, sample.memory_stats?.max_usage ?? 0);
        if (memory > 0)
            this.memoryPeak = Math.max(this.memoryPeak ?? 0, memory);
        if (sample.networks) {
            let rx = 0;
            let tx = 0;
            for (const counters of Object.values(sample.networks)) {
                rx += counters.rx_bytes ?? 0;
                tx += counters.tx_bytes ?? 0;
            }
            if (!this.network || rx + tx >= this.network.rx + this.network.tx)
                this.network = { rx, tx };
        }
        const io = sample.blkio_stats?.io_service_bytes_recursive;
        if (io) {
            let read = 0;
            let write = 0;
            for (const entry of io) {
                // cgroup v1 says Read/Write (and Total); v2 says read/write.
                const op = entry.op?.toLowerCase();
                if (op === 'read')
                    read += entry.value ?? 0;
                if (op === 'write')
                    write += entry.value ?? 0;
            }
            if (!this.block || read + write >= this.block.read + this.block.write)
                this.block = { read, write };
        }
    }
    usage() {
        if (this.samples === 0)
            return undefined;
        return {
            source: 'docker-stats',
            ...(this.cpuNanos === undefined ? {} : { cpuSeconds: this.cpuNanos / 1e9 }),
            ...(this.memoryPeak === undefined ? {} : { memoryPeakBytes: this.memoryPeak }),
            ...(this.network ? { networkRxBytes: this.network.rx, networkTxBytes: this.network.tx } : {}),
            ...(this.block ? { blockReadBytes: this.block.read, blockWriteBytes: this.block.write } : {}),
        };
    }
}
/** Follows a container's stats until stopped; never throws (usage is a report, not the run). */
class StatsFollower {
    accumulator = new StatsAccumulator();
    stream;
    stopped = false;
    ended;
    constructor(container) {
        this.ended = this.follow(container).catch(() => undefined);
    }
    async follow(container) {
        const stream = await container.stats({ stream: true });
        this.stream = stream;
        if (this.stopped) {
            destroy(stream);
            return;
        }
        let pending = '';
        await new Promise((resolve) => {
            stream.on('data', (chunk) => {
                pending += chunk.toString();
                let newline;
                while ((newline = pending.indexOf('\n')) >= 0) {
                    const line = pending.slice(0, newline).trim();
                    pending = pending.slice(newline + 1);
                    if (line === '')
                        continue;
                    try {
                        this.accumulator.add(JSON.parse(line));
                    }
                    catch {
                        // A torn line when the stream is cut: the next sample has the same counters.
                    }
                }
            });
            stream.on('end', resolve);
            stream.on('close', resolve);
            stream.on('error', () => resolve());
        });
    }
    /** Stops following (at most a moment's wait) and gives what was seen. */
    async stop() {
        this.stopped = true;
        if (this.stream)
            destroy(this.stream);
        // The wait's timer is cleared: a timer left behind would keep the process alive a second.
        let timer;
        await Promise.race([this.ended, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
        clearTimeout(timer);
        return this.accumulator.usage();
    }
}
function destroy(stream) {
    stream.destroy?.();
}

// EXTERNAL MODULE: ./src/runtime/usage.ts
var runtime_usage = __webpack_require__(46023);
// EXTERNAL MODULE: ./src/results/untrusted.ts
var untrusted = __webpack_require__(30976);
;// CONCATENATED MODULE: ./src/runtime/docker/docker-runtime.ts
/** The Docker runtime: one container on the runner's engine, through dockerode. */














/** Where the container sees the run's control folder (RunSpec.controlDir). */
const CONTROL_TARGET = '/.cook-action';
/** The file there in which the workload's shell leaves its cgroup counters. */
const USAGE_FILE = 'usage';
function createDockerClient(connection) {
    if (connection.kind === 'socket')
        return new (docker_default())({ socketPath: connection.socketPath });
    const tls = connection.tlsCertPath;
    return new (docker_default())({
        host: connection.host,
        port: connection.port,
        protocol: tls ? 'https' : 'http',
        ...(tls
            ? {
                ca: (0,external_node_fs_.readFileSync)(external_node_path_default().join(tls, 'ca.pem')),
                cert: (0,external_node_fs_.readFileSync)(external_node_path_default().join(tls, 'cert.pem')),
                key: (0,external_node_fs_.readFileSync)(external_node_path_default().join(tls, 'key.pem')),
            }
            : {}),
    });
}
function createDockerRuntime(connection) {
    return new DockerRuntime(createDockerClient(connection));
}
/** Docker's create-container body for a spec. Pure, so dry-run shows exactly what would be sent. */
function containerCreateOptions(spec, networkName) {
    const container = spec.container;
    if (!container)
        throw new Error('The Docker runtime needs a container spec (image, limits).');
    const [program, ...rest] = spec.argv;
    const env = { ...spec.env, ...spec.secretEnv };
    return {
        name: spec.name,
        Image: container.image,
        // The whole command replaces the image's entrypoint: `command` means exactly that command,
        // in a shell that passes signals on and leaves its cgroup counters behind (runtime/usage.ts).
        Entrypoint: [
            'sh',
            '-c',
            (0,runtime_usage/* usageWrapper */.nY)(`${CONTROL_TARGET}/${USAGE_FILE}`),
            'cook-workload',
            program,
        ],
        Cmd: rest,
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        WorkingDir: spec.workdir,
        Labels: { ...spec.labels },
        Tty: false,
        OpenStdin: false,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ...(container.user ? { User: container.user } : {}),
        HostConfig: hostConfig(spec, container, networkName),
    };
}
/** The container's host side: its mounts, network, least privilege, log, limits and GPUs. */
function hostConfig(spec, container, networkName) {
    const memory = container.memory?.bytes;
    return {
        Binds: [
            ...spec.mounts.map((m) => `${m.host}:${m.target}${m.readOnly ? ':ro' : ''}`),
            ...(spec.controlDir ? [`${spec.controlDir}:${CONTROL_TARGET}`] : []),
        ],
        NetworkMode: networkName ?? container.network,
        // Least privilege (config/capabilities.ts): every capability dropped but the kept ones,
        // and no setuid binary or file capability grants more than the process started with.
        CapDrop: ['ALL'],
        CapAdd: [...container.capabilities],
        SecurityOpt: ['no-new-privileges'],
        // An init as PID 1 passes SIGTERM on to the workload, so a timeout or cancellation stops
        // it at once instead of waiting out the grace period for a shell that ignores signals.
        Init: true,
        // json-file with no rotation: the log is read back from the engine, and a rotated file
        // would lose lines.
        LogConfig: { Type: 'json-file', Config: {} },
        ...(container.cpu ? { NanoCpus: Math.round(container.cpu.millicores * 1_000_000) } : {}),
        // Swap equal to memory: the limit is the limit, as on Kubernetes.
        ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
        ...(container.gpus !== undefined
            ? {
                DeviceRequests: [
                    {
                        Driver: '',
                        Count: container.gpus === 'all' ? -1 : container.gpus,
                        Capabilities: [['gpu']],
                    },
                ],
            }
            : {}),
    };
}
class DockerRuntime {
    docker;
    kind = 'docker';
    networkName;
    pullSeconds;
    /** Set by cleanup(): a prepare() still pulling must not create anything afterwards. */
    closed = false;
    created = {
        containers: [],
        networks: [],
    };
    constructor(docker) {
        this.docker = docker;
    }
    describe(spec) {
        const body = containerCreateOptions(spec, spec.container?.network === 'isolated' ? spec.name : undefined);
        const hidden = new Set(Object.keys(spec.secretEnv));
        const shown = {
            ...body,
            Env: body.Env?.map((line) => {
                const key = line.slice(0, line.indexOf('='));
                return hidden.has(key) ? `${key}=***` : line;
            }),
        };
        const network = spec.container?.network === 'isolated'
            ? `\nPOST /networks/create ${JSON.stringify({ Name: spec.name, Driver: 'bridge', Labels: spec.labels }, null, 2)}`
            : '';
        return `POST /containers/create ${JSON.stringify(shown, null, 2)}${network}`;
    }
    async prepare(spec, log) {
        const container = spec.container;
        if (!container)
            throw new Error('The Docker runtime needs a container spec.');
        try {
            await engineCall('ping', () => this.docker.ping(), { retries: 2, deadlineMs: 10_000 });
        }
        catch (error) {
            throw new Error(`The Docker engine does not answer (${(0,errors/* dockerMessage */.QV)(error)}). Is Docker running, and DOCKER_HOST right?`, { cause: error });
        }
        const pullStart = Date.now();
        if (spec.controlDir) {
            await (0,promises_.mkdir)(spec.controlDir, { recursive: true });
            // The workload may run as any user.
            await (0,promises_.chmod)(spec.controlDir, 0o777);
        }
        await (0,docker_image/* ensureImage */.Yt)(this.docker, container, log);
        this.pullSeconds = (Date.now() - pullStart) / 1000;
        this.assertOpen();
        if (container.network === 'isolated') {
            const name = spec.name;
            try {
                await this.docker.createNetwork({
                    Name: name,
                    Driver: 'bridge',
                    CheckDuplicate: true,
                    Labels: { ...spec.labels },
                });
            }
            catch (error) {
                throw new Error(`Creating network ${name}: ${(0,errors/* dockerMessage */.QV)(error)}`, { cause: error });
            }
            this.created.networks.push(name);
            this.networkName = name;
            log(`Created network ${name} for this run alone.`);
        }
    }
    async start(spec) {
        this.assertOpen();
        const startedAt = Date.now();
        let container;
        try {
            container = await this.createContainer(spec);
        }
        catch (error) {
            throw new Error(`Creating the container: ${(0,errors/* dockerMessage */.QV)(error)}`, { cause: error });
        }
        this.created.containers.push(container.id);
        // Attached before it starts, as docker run does: its first byte is on its way at once.
        const attached = await attachOutput(container);
        try {
            // 304: an earlier attempt, whose answer was lost, started it already.
            await engineCall('start', () => (0,errors/* ignoreGone */.Ou)(() => container.start()));
        }
        catch (error) {
            attached?.destroy();
            throw new Error(`Starting the container: ${(0,errors/* dockerMessage */.QV)(error)}`, { cause: error });
        }
        return new DockerWorkload(container, this.docker, {
            ...(this.pullSeconds === undefined ? {} : { pull_seconds: this.pullSeconds }),
            start_seconds: (Date.now() - startedAt) / 1000,
        }, spec.controlDir, attached);
    }
    /**
     * Creates the container; when the connection drops before the answer, the name tells whether
     * the engine created it anyway (a second create is refused with 409).
     */
    async createContainer(spec) {
        const options = containerCreateOptions(spec, this.networkName);
        for (let attempt = 0;; attempt++) {
            try {
                return await this.docker.createContainer(options);
            }
            catch (error) {
                const lost = (0,log_cursor/* isConnectionDrop */.YD)(error) && attempt < 5;
                if (lost) {
                    await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
                    continue;
                }
                if ((0,errors/* statusCode */.se)(error) === 409 && attempt > 0) {
                    const info = await engineCall('inspect', () => this.docker.getContainer(spec.name).inspect());
                    if (info.Config.Labels?.[names/* Labels */.gC.run] === spec.labels[names/* Labels */.gC.run])
                        return this.docker.getContainer(info.Id);
                }
                throw error;
            }
        }
    }
    assertOpen() {
        if (this.closed)
            throw new Error('The run was cleaned up; nothing more is created.');
    }
    async cleanup() {
        this.closed = true;
        const failures = [];
        for (const id of this.created.containers.splice(0)) {
            await engineCall('remove', () => (0,errors/* ignoreGone */.Ou)(() => this.docker.getContainer(id).remove({ force: true, v: true }))).catch((error) => failures.push(`container ${id.slice(0, 12)}: ${(0,errors/* dockerMessage */.QV)(error)}`));
        }
        for (const name of this.created.networks.splice(0)) {
            await engineCall('remove network', () => (0,errors/* ignoreGone */.Ou)(() => this.docker.getNetwork(name).remove())).catch((error) => failures.push(`network ${name}: ${(0,errors/* dockerMessage */.QV)(error)}`));
        }
        if (failures.length > 0)
            throw new Error(`Could not remove ${failures.join('; ')}`);
    }
    async sweep(runId) {
        const filters = { label: [`${names/* Labels */.gC.run}=${runId}`] };
        const removed = [];
        const containers = await engineCall('list containers', () => this.docker.listContainers({ all: true, filters }));
        for (const info of containers) {
            await engineCall('remove', () => (0,errors/* ignoreGone */.Ou)(() => this.docker.getContainer(info.Id).remove({ force: true, v: true })));
            removed.push(`container ${info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12)}`);
        }
        const networks = await engineCall('list networks', () => this.docker.listNetworks({ filters }));
        for (const info of networks) {
            await engineCall('remove network', () => (0,errors/* ignoreGone */.Ou)(() => this.docker.getNetwork(info.Id).remove()));
            removed.push(`network ${info.Name}`);
        }
        return removed;
    }
}
class DockerWorkload {
    container;
    docker;
    phases;
    controlDir;
    attached;
    id;
    stats;
    constructor(container, docker, phases, controlDir, attached) {
        this.container = container;
        this.docker = docker;
        this.phases = phases;
        this.controlDir = controlDir;
        this.attached = attached;
        this.id = container.id;
        this.stats = new StatsFollower(container);
    }
    async metrics() {
        const sampled = await this.stats.stop();
        const counted = this.controlDir
            ? (0,runtime_usage/* parseUsage */.Zb)(await (0,untrusted/* readUntrustedTextIfAny */.BM)(external_node_path_default().join(this.controlDir, USAGE_FILE), {
                what: 'the usage counters',
                maxBytes: untrusted/* ReadLimits */.nd.usage,
                root: this.controlDir,
            }).catch(() => undefined))
            : undefined;
        // The counters are exact; network comes from the samples when the counters lack it.
        const usage = counted
            ? {
                ...(sampled?.networkRxBytes === undefined
                    ? {}
                    : { networkRxBytes: sampled.networkRxBytes, networkTxBytes: sampled.networkTxBytes }),
                ...counted,
            }
            : sampled;
        let run;
        try {
            const inspected = await engineCall('inspect', () => this.container.inspect());
            const state = inspected.State;
            const started = Date.parse(state.StartedAt);
            const finished = Date.parse(state.FinishedAt);
            // The engine's own clock, to the nanosecond (Date keeps the millisecond).
            if (started > 0 && finished >= started)
                run = (finished - started) / 1000;
        }
        catch {
            // Gone already: the run's own clock stands in (cook.ts).
        }
        return {
            phases: { ...this.phases, ...(run === undefined ? {} : { run_seconds: run }) },
            ...(usage ? { usage } : {}),
        };
    }
    output(onChunk, signal) {
        const source = dockerLogSource(this.container, this.docker.modem);
        const attached = this.attached;
        this.attached = undefined;
        if (attached)
            return relayAttached(attached, source, onChunk, signal);
        return followLogs(source, onChunk, { ...(signal ? { signal } : {}) });
    }
    async wait() {
        // A dropped wait connection is not an exit: ask again until the engine says it ended; the
        // state is then read from the engine, never from the wait's own answer alone.
        await waitForExit(this.docker.modem, this.id);
        const state = (await engineCall('inspect', () => this.container.inspect())).State;
        return {
            exitCode: typeof state.ExitCode === 'number' && !state.Running ? state.ExitCode : undefined,
            oomKilled: state.OOMKilled,
            ...(state.Error ? { error: state.Error } : {}),
        };
    }
    async stop(graceSeconds) {
        await engineCall('stop', () => (0,errors/* ignoreGone */.Ou)(() => this.container.stop({ t: graceSeconds })), 
        // The engine answers a stop only after the grace period.
        { deadlineMs: (graceSeconds + 30) * 1000 });
    }
}


/***/ }),

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

import { fileURLToPath as __cookFileURLToPath } from 'node:url';
const __dirname = __cookFileURLToPath(new URL('.', import.meta.url));
export const id = 74;
export const ids = [74];
export const modules = {

/***/ 76074:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createLocalRuntime: () => (/* binding */ createLocalRuntime)
/* harmony export */ });
/* harmony import */ var node_child_process__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(31421);
/* harmony import */ var node_child_process__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_child_process__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(48161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _spec_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(55369);
/** The local runtime: the same workload as a child process, for machines without Docker. */




function createLocalRuntime(hostEnv) {
    return new LocalRuntime(hostEnv);
}
class LocalRuntime {
    hostEnv;
    kind = 'local';
    workloads = [];
    constructor(hostEnv) {
        this.hostEnv = hostEnv;
    }
    describe(spec) {
        const env = {
            ...spec.env,
            ...Object.fromEntries(Object.keys(spec.secretEnv).map((key) => [key, '***'])),
        };
        return `spawn ${JSON.stringify({ argv: spec.argv, cwd: spec.workdir, env }, null, 2)}`;
    }
    async prepare() { }
    async start(spec) {
        const [program, ...args] = spec.argv;
        const child = (0,node_child_process__WEBPACK_IMPORTED_MODULE_0__.spawn)(program, args, {
            cwd: spec.workdir,
            env: { ...this.hostEnv, ...spec.env, ...spec.secretEnv },
            stdio: ['ignore', 'pipe', 'pipe'],
            // A process group of its own, so stop() reaches everything the command started.
            detached: true,
        });
        await new Promise((resolve, reject) => {
            child.once('spawn', resolve);
            child.once('error', (error) => reject(new Error(`Starting ${program}: ${error.message}`, { cause: error })));
        });
        const workload = new LocalWorkload(child);
        this.workloads.push(workload);
        return workload;
    }
    async cleanup() {
        for (const workload of this.workloads.splice(0))
            workload.kill('SIGKILL');
    }
    /**
     * Processes carry the run's id in their environment (RUN_ID_VARIABLE), as containers carry it in
     * a label: whatever still has it after main was killed is this run's, and is killed here.
     */
    async sweep(runId) {
        const marker = `${_spec_js__WEBPACK_IMPORTED_MODULE_3__/* .RUN_ID_VARIABLE */ .Do}=${runId}`;
        const removed = [];
        let entries;
        try {
            entries = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.readdir)('/proc');
        }
        catch {
            return removed; // No /proc (not Linux): nothing can be found this way.
        }
        for (const entry of entries) {
            if (!/^\d+$/.test(entry) || Number(entry) === process.pid)
                continue;
            let environ;
            try {
                environ = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.readFile)(`/proc/${entry}/environ`, 'latin1');
            }
            catch {
                continue; // Gone, or not ours to read.
            }
            if (!environ.split('\0').includes(marker))
                continue;
            try {
                process.kill(Number(entry), 'SIGKILL');
                removed.push(`process ${entry}`);
            }
            catch {
                // Exited in the meantime.
            }
        }
        return removed;
    }
}
class LocalWorkload {
    child;
    id;
    exited;
    outputDone;
    listener;
    early = [];
    constructor(child) {
        this.child = child;
        this.id = String(child.pid);
        // Output is captured from the first byte, before anyone asks for it.
        const deliver = (chunk) => this.listener ? this.listener(chunk) : this.early.push(chunk);
        const ended = (stream) => new Promise((resolve) => {
            stream.once('end', resolve);
            stream.once('close', resolve);
        });
        child.stdout.on('data', (data) => deliver({ stream: 'stdout', data }));
        child.stderr.on('data', (data) => deliver({ stream: 'stderr', data }));
        this.outputDone = Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => { });
        this.exited = new Promise((resolve) => {
            child.once('exit', (code, signal) => {
                const signalNumber = signal ? node_os__WEBPACK_IMPORTED_MODULE_2__.constants.signals[signal] : undefined;
                resolve({
                    // A shell reports a signalled child as 128 + the signal; do the same.
                    exitCode: code ?? (signalNumber === undefined ? undefined : 128 + signalNumber),
                    oomKilled: false,
                });
            });
        });
    }
    async output(onChunk) {
        for (const chunk of this.early.splice(0))
            onChunk(chunk);
        this.listener = onChunk;
        await this.outputDone;
    }
    wait() {
        return this.exited;
    }
    async stop(graceSeconds) {
        if (this.child.exitCode !== null || this.child.signalCode !== null)
            return;
        this.kill('SIGTERM');
        const timer = setTimeout(() => this.kill('SIGKILL'), graceSeconds * 1000);
        await this.exited;
        clearTimeout(timer);
    }
    kill(signal) {
        try {
            process.kill(-this.child.pid, signal);
        }
        catch {
            // Best effort: the group is already gone.
        }
    }
}


/***/ })

};

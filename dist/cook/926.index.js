import { fileURLToPath as __cookFileURLToPath } from 'node:url';
const __dirname = __cookFileURLToPath(new URL('.', import.meta.url));
export const id = 926;
export const ids = [926];
export const modules = {

/***/ 78926:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   IndexedJob: () => (/* binding */ IndexedJob),
/* harmony export */   sharedTemplate: () => (/* binding */ sharedTemplate)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_util__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(57975);
/* harmony import */ var node_util__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_util__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _kubernetes_runtime_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3225);
/** Shards run at once on a cluster, as one Indexed Job. */



/**
 * Shards run at once on a cluster: one Indexed Job, each index a shard. Each shard gets a
 * runtime of its own from runtimeFor(index), used as any runtime is; the Job is created when
 * every shard has asked to start (their specs differ only in their mounts), and deleted when the
 * last one cleans up. A shard that cleans up before it started stops the others from waiting.
 */
class IndexedJob {
    #runtime;
    #indexed;
    #specs;
    #logs;
    #waiting = [];
    #connected;
    #launched = false;
    #abandoned;
    #left = 0;
    constructor(options, indexed) {
        this.#runtime = new _kubernetes_runtime_js__WEBPACK_IMPORTED_MODULE_2__.KubernetesRuntime(options);
        this.#indexed = indexed;
        this.#specs = Array.from({ length: indexed.count }, () => undefined);
        this.#logs = Array.from({ length: indexed.count }, () => () => { });
    }
    runtimeFor(index) {
        return {
            kind: 'kubernetes',
            describe: (spec) => this.#runtime.describe(spec),
            prepare: async (spec, log) => {
                this.#logs[index] = log;
                this.#connected ??= this.#runtime.connect();
                log(await this.#connected);
            },
            start: (spec) => this.#arrive(index, spec),
            cleanup: () => this.#leave(index),
            sweep: (runId) => this.#runtime.sweep(runId),
        };
    }
    #arrive(index, spec) {
        if (this.#abandoned)
            return Promise.reject(this.#abandoned);
        this.#specs[index] = spec;
        const arrived = new Promise((resolve, reject) => {
            this.#waiting[index] = { resolve, reject };
        });
        if (this.#specs.every((s) => s !== undefined))
            void this.#launch();
        return arrived;
    }
    async #launch() {
        this.#launched = true;
        try {
            sharedTemplate(this.#specs);
            const workloads = await this.#runtime.startIndexed(this.#specs, this.#indexed, this.#logs);
            workloads.forEach((workload, index) => this.#waiting[index].resolve(workload));
        }
        catch (error) {
            for (const waiting of this.#waiting)
                waiting?.reject(error);
        }
    }
    async #leave(index) {
        if (!this.#launched && this.#specs[index] === undefined && !this.#abandoned) {
            this.#abandoned = new Error(`shard ${index + 1} of ${this.#indexed.count} ended before its pod could start, so the shards' Indexed Job was not created`);
            for (const waiting of this.#waiting)
                waiting?.reject(this.#abandoned);
        }
        this.#left++;
        if (this.#left === this.#indexed.count)
            await this.#runtime.cleanup();
    }
}
/**
 * What the one pod template of an Indexed Job carries, which must be alike for every shard: a
 * shard whose pod would differ in more than its mounts' content cannot run as an index.
 */
function templateOf(spec) {
    return {
        argv: spec.argv,
        workdir: spec.workdir,
        env: spec.env,
        secretEnv: spec.secretEnv,
        container: spec.container,
        timeoutMs: spec.timeoutMs,
        schedulingTimeoutMs: spec.schedulingTimeoutMs,
        mounts: spec.mounts.map(({ target, readOnly }) => ({ target, readOnly })),
        workflow: spec.workflowFile && {
            argIndex: spec.workflowFile.argIndex,
            content: (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(spec.workflowFile.host, 'utf8'),
        },
    };
}
/** Throws, naming the field, when the shards' specs would not share one pod template. */
function sharedTemplate(specs) {
    const first = templateOf(specs[0]);
    for (const [index, spec] of specs.entries()) {
        const template = templateOf(spec);
        const differs = Object.keys(first).filter((key) => !(0,node_util__WEBPACK_IMPORTED_MODULE_1__.isDeepStrictEqual)(first[key], template[key]));
        if (differs.length > 0) {
            throw new Error(`shard ${index + 1}'s pod would differ from shard 1's in ${differs.join(', ')}, so the shards cannot share one Indexed Job`);
        }
    }
}


/***/ })

};

/**
 * The keeper: a native sidecar of each pod, in the workload's image, that receives the workspace
 * over exec (transfer.ts), reports ready through its startup probe, and after the workload ended
 * holds the pod until the results were fetched.
 */

/** The keeper: a sidecar that receives the workspace and holds the pod for the way back. */
export const KEEPER_CONTAINER = 'keeper';
/** Control files (markers, transfer files) in the pod, on a volume of their own. */
export const CONTROL_DIR = '/cook/control';
export const READY_MARKER = `${CONTROL_DIR}/ready`;
export const COLLECTED_MARKER = `${CONTROL_DIR}/collected`;
/** Seconds the keeper waits for the results to be fetched after it was asked to stop. */
export const KEEPER_HOLD_SECONDS = 120;

/**
 * The keeper's script: idle until SIGTERM (sent when the workload ended, or the pod is deleted),
 * then hold on until the results were fetched or the hold ran out.
 */
export const KEEPER_SCRIPT = [
  `trap 'n=0; while [ ! -e ${COLLECTED_MARKER} ] && [ $n -lt ${KEEPER_HOLD_SECONDS * 10} ]; do sleep 0.1; n=$((n+1)); done; exit 0' TERM`,
  'while :; do sleep 1; done',
].join('\n');

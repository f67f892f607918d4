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
export const KEEPER_CONTAINER = 'keeper';
/** Control files (markers, transfer files) in the pod, on a volume of their own. */
export const CONTROL_DIR = '/cook/control';
/** The ready marker's own volume: written by the keeper, read-only for the workload. */
export const READY_DIR = '/cook/ready';
export const READY_MARKER = `${READY_DIR}/ready`;
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

/**
 * Seconds the workload waits for the workspace before it gives up (a send that fails ends the
 * run sooner: pod-tracker.ts).
 */
export const RECEIVE_TIMEOUT_SECONDS = 600;

/**
 * Shell lines run before the workload: wait for the keeper's ready marker, polled every 0.1 s.
 * A stop while waiting ends the shell at once (as PID 1 it would ignore SIGTERM otherwise).
 */
export const WAIT_FOR_WORKSPACE = [
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

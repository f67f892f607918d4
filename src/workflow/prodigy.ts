/**
 * How a Prodigy run is launched: the command line and the environment Prodigy needs
 * (Prodigy 0.4.4, as read from its source).
 */
import path from 'node:path';
import type { ClaudeLimits } from '../config/workload.js';

/**
 * Runs before Prodigy, in the workload's shell.
 *
 * Prodigy runs MapReduce agents and reduce steps with a cleared environment (seen with 0.4.4: only
 * HOME, PATH and LANG remain), so a git identity given as GIT_* variables never reaches their
 * commits, which then fail. The identity and safe.directory are therefore written to the global
 * git config too, unless it already has them.
 *
 * Prodigy merges its session into the checked-out branch; on a detached HEAD (the usual
 * pull-request checkout) it would pick the default branch instead, so a branch of this run's own
 * is made first.
 */
const PRELUDE = `set -e
mkdir -p "$HOME"
if ! git config --global user.name >/dev/null 2>&1; then
  git config --global user.name "$GIT_AUTHOR_NAME"
fi
if ! git config --global user.email >/dev/null 2>&1; then
  git config --global user.email "$GIT_AUTHOR_EMAIL"
fi
if ! git config --global --get-all safe.directory 2>/dev/null | grep -qx '[*]'; then
  git config --global --add safe.directory '*'
fi
if ! git symbolic-ref -q HEAD >/dev/null 2>&1; then
  git checkout -q -b "$COOK_BRANCH"
  echo "cook-action: HEAD was detached; Prodigy's results go to branch $COOK_BRANCH"
fi
# Prodigy starts Claude in MapReduce agents with the same cleared environment: no API key, no
# base URL, no IS_SANDBOX, no CLAUDE_CONFIG_DIR. A claude of the run's own, first on PATH (which
# Prodigy keeps), gives it this environment back, under what Prodigy sets for the command, and
# gives every session the step's caps (max-turns, max-cost-usd) as Claude's own limits.
real_claude=$(command -v claude || true)
if [ -n "$real_claude" ]; then
  tools=\${COOK_TOOLS_DIR:-\${TMPDIR:-/tmp}/cook-action-$COOK_ACTION_RUN_ID}
  mkdir -p "$tools/bin"
  chmod 700 "$tools"
  (umask 077 && export -p >"$tools/env")
  cat >"$tools/bin/claude" <<SHIM
#!/bin/sh
cook_given=\\$(export -p)
. '$tools/env'
eval "\\$cook_given"
if [ -n "\\$COOK_MAX_TURNS" ]; then set -- --max-turns "\\$COOK_MAX_TURNS" "\\$@"; fi
if [ -n "\\$COOK_MAX_COST_USD" ]; then set -- --max-budget-usd "\\$COOK_MAX_COST_USD" "\\$@"; fi
exec '$real_claude' "\\$@"
SHIM
  chmod 700 "$tools/bin/claude"
  PATH="$tools/bin:$PATH"
  export PATH
fi
exec prodigy run "$@"`;

export interface ProdigyLaunch {
  readonly argv: readonly string[];
  /** Defaults for the environment; the user's env and secrets win over these. */
  readonly env: Readonly<Record<string, string>>;
}

export interface ProdigyLaunchOptions {
  /** The branch Prodigy's results go to when HEAD is detached (runBranch). */
  readonly branch: string;
  /** Workspace-relative workflow path. */
  readonly workflow: string;
  readonly args: readonly string[];
  /** Where Prodigy keeps its records, as the workload sees it. */
  readonly prodigyHome: string;
  /** A writable HOME for worktrees, when the user has none of its own. */
  readonly home?: string;
  /** Where the run's claude and the environment it gets back are written (default: in TMPDIR). */
  readonly toolsDir?: string;
  /** The step's caps, which the run's claude passes to every Claude session. */
  readonly limits?: ClaudeLimits;
}

/** Claude's folder (CLAUDE_CONFIG_DIR) inside Prodigy's records: its session logs come back. */
export const CLAUDE_FOLDER = 'claude';

/**
 * The branch created for Prodigy when HEAD is detached: the run's, or for the shards of one
 * max-parallel run, their group's. Each shard has a checkout of its own, and the shards of an
 * Indexed Job share one pod template, so the name must not tell them apart.
 */
export function runBranch(run: { readonly runId: string; readonly runGroup?: string }): string {
  return `cook/${run.runGroup ?? run.runId}`;
}

export function prodigyLaunch(options: ProdigyLaunchOptions): ProdigyLaunch {
  const identity = 'cook-action';
  const email = 'cook-action@users.noreply.github.com';
  return {
    argv: ['sh', '-c', PRELUDE, 'prodigy', options.workflow, '--yes', ...options.args],
    env: {
      PRODIGY_HOME: options.prodigyHome,
      // Claude refuses --dangerously-skip-permissions as root unless told it is sandboxed; a
      // container made for this run is that sandbox.
      IS_SANDBOX: '1',
      GIT_AUTHOR_NAME: identity,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: identity,
      GIT_COMMITTER_EMAIL: email,
      COOK_BRANCH: options.branch,
      ...(options.home ? { HOME: options.home } : {}),
      // Claude keeps its session logs (the transcripts, the tokens, what they cost) with
      // Prodigy's records, which come back to the runner on every runtime.
      CLAUDE_CONFIG_DIR: path.posix.join(options.prodigyHome, CLAUDE_FOLDER),
      ...(options.toolsDir ? { COOK_TOOLS_DIR: options.toolsDir } : {}),
      ...(options.limits?.maxTurns !== undefined
        ? { COOK_MAX_TURNS: String(options.limits.maxTurns) }
        : {}),
      ...(options.limits?.maxCostUsd !== undefined
        ? { COOK_MAX_COST_USD: String(options.limits.maxCostUsd) }
        : {}),
    },
  };
}

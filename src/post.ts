import * as core from '@actions/core';
import { runPost } from './run-post.js';

// Cleanup is best effort: a failure here is reported, but never fails the job on its own.
runPost().catch((error: unknown) => {
  core.warning(
    `Cleanup after the run failed: ${error instanceof Error ? error.message : String(error)}`,
  );
});

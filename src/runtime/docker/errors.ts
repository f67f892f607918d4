/** The engine's own words out of a dockerode error. */
export function dockerMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string };
  const fromJson = e.json?.message;
  if (fromJson) return fromJson.trim();
  const message = (e.message ?? String(error)).trim();
  // docker-modem leaves json empty for streamed calls (pull) and prefixes the engine's body with
  // its own "(HTTP code 500) server error - ".
  const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]+)$/.exec(message);
  return wrapped ? wrapped[1]!.trim() : message;
}

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** Runs a removal that may find the object already gone. */
export async function ignoreGone(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const code = statusCode(error);
    // 404: already removed; 304: already stopped; 409: removal already in progress.
    if (code === 404 || code === 304 || code === 409) return;
    throw error;
  }
}

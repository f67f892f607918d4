/** The engine's own words out of a dockerode error. */
export function dockerMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string };
  const fromJson = e.json?.message;
  if (fromJson) return fromJson.trim();
  return (e.message ?? String(error)).trim();
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

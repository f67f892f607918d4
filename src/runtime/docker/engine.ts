/**
 * Engine calls that survive a dropped connection. docker-modem settles a call only when its
 * response ends: a connection cut after the headers (a daemon restart, a proxy) leaves the
 * promise pending for ever, and a run waiting on it would end with no verdict at all. So a short
 * call gets a deadline and is re-issued after a drop, and `wait` reads the engine's long poll
 * itself and asks again until the engine says the container ended.
 */
import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import pRetry, { AbortError } from 'p-retry';
import { isConnectionDrop } from '../log-cursor.js';

/** An attempt of a short call (inspect, stop, remove, list) that takes longer was lost. */
const CALL_DEADLINE_MS = 30_000;
const CALL_RETRIES = 6;

class LostCall extends Error {
  readonly code = 'ECONNRESET';
}

/** Resolves with the call, or rejects as a dropped connection once the deadline has passed. */
function withinDeadline<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    call,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new LostCall(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs an idempotent engine call, re-issuing it after a dropped or silent connection; the
 * engine's own refusals (4xx) fail at once.
 */
export async function engineCall<T>(
  what: string,
  call: () => Promise<T>,
  options: { readonly deadlineMs?: number; readonly retries?: number } = {},
): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await withinDeadline(call(), options.deadlineMs ?? CALL_DEADLINE_MS, what);
      } catch (error) {
        if (!isConnectionDrop(error)) throw new AbortError(error as Error);
        throw error;
      }
    },
    { retries: options.retries ?? CALL_RETRIES, minTimeout: 100, maxTimeout: 2000, factor: 2 },
  );
}

export interface WaitResult {
  readonly statusCode: number | undefined;
  readonly error?: string;
}

/**
 * Docker's `wait` (condition not-running): returns at once for a container that has ended, so
 * asking again after a drop is always safe. Re-issued for as long as connections drop; a 404 or
 * another refusal is thrown.
 */
export async function waitForExit(
  modem: Docker['modem'],
  id: string,
  retryDelayMs = 200,
): Promise<WaitResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await waitOnce(modem, id);
    } catch (error) {
      if (!isConnectionDrop(error)) throw error;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(2000, retryDelayMs * 2 ** attempt)),
      );
    }
  }
}

function waitOnce(modem: Docker['modem'], id: string): Promise<WaitResult> {
  return new Promise<WaitResult>((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${encodeURIComponent(id)}/wait?condition=not-running`,
        method: 'POST',
        isStream: true,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
      },
      (error: unknown, result: unknown) => {
        if (error) return reject(error);
        const stream = result as IncomingMessage;
        const chunks: Buffer[] = [];
        let settled = false;
        const drop = (cause?: unknown) => {
          if (settled) return;
          settled = true;
          reject(
            Object.assign(new Error('the wait connection dropped before the engine answered'), {
              code: 'ECONNRESET',
              cause,
            }),
          );
        };
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', drop);
        stream.on('close', () => {
          if (settled) return;
          // 'close' after a complete body follows 'end'; a body cut short never parses.
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            const body = JSON.parse(text) as { StatusCode?: unknown; Error?: { Message?: string } };
            settled = true;
            resolve({
              statusCode: typeof body.StatusCode === 'number' ? body.StatusCode : undefined,
              ...(body.Error?.Message ? { error: body.Error.Message } : {}),
            });
          } catch {
            drop();
          }
        });
      },
    );
  });
}

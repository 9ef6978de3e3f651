/**
 * Retries for remote reads: exponential back-off with full jitter, bounded both in attempts
 * and in total time, so a dead server fails in a known time and a busy one (vCenter answers
 * 503 when it is out of sessions) is given room to recover.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts after the first (default 30: with back-off capped at 5 s, enough to ride out a server gone for 30 s or more). */
  retries: number;
  /** No new attempt starts after this many ms since the first (default 60 s). */
  maxTime: number;
  /** First back-off ceiling in ms, doubled each attempt (default 100). */
  baseDelay: number;
  /** Largest back-off ceiling in ms (default 5 s). */
  maxDelay: number;
}

export const defaultRetry: RetryPolicy = { retries: 30, maxTime: 60_000, baseDelay: 100, maxDelay: 5_000 };

/** A failure worth another attempt; `status` is the HTTP status when there was one. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface RetryOutcome {
  attempts: number;
  elapsed: number;
  last: Error;
}

/**
 * Run `attempt` until it succeeds, throws something other than a TransientError, or the
 * policy is spent; then `fail` builds the error the caller sees from the last failure.
 */
export async function withRetry<T>(policy: RetryPolicy, attempt: () => Promise<T>, fail: (o: RetryOutcome) => Error): Promise<T> {
  const start = Date.now();
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      const elapsed = Date.now() - start;
      const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** n);
      const delay = Math.random() * ceiling;
      if (n >= policy.retries || elapsed + delay > policy.maxTime) throw fail({ attempts: n + 1, elapsed, last: e });
      await sleep(delay);
    }
  }
}

/** Network-level failures that a new connection may not repeat. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Wrap a thrown network error as transient when it is one (timeouts and resets). */
export function classifyNetworkError(e: unknown): Error {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code;
  if ((code && TRANSIENT_CODES.has(code)) || err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new TransientError(`${code ?? err.name}: ${err.message}`);
  }
  return err instanceof Error ? err : new Error(String(e));
}

/** 5xx and 429 are worth retrying; other statuses are answers. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * One HTTP request through undici's `dispatch` with a handler of our own. The body's chunks
 * are copied straight into the caller's buffer as they arrive: undici's stream body (what
 * `request()` returns) costs as much again per MiB in stream machinery and allocations. A
 * body the caller does not want is read and dropped, so the connection goes back to the pool;
 * one too long to drop (a whole file sent instead of a range) closes the connection instead.
 */
import type { Dispatcher } from 'undici';

export type Headers = Record<string, string | string[] | undefined>;

export interface Answer {
  status: number;
  headers: Headers;
  /** Body bytes copied into the target. */
  received: number;
}

export interface Exchange {
  /** Where a wanted body goes; it must fit. */
  target?: Buffer;
  /**
   * Called with the status and headers before any body byte: true copies the body into the
   * target, false drops it. A throw aborts the request (closing its connection) and rejects
   * with what was thrown.
   */
  accept: (status: number, headers: Headers) => boolean;
  /** The error for a body longer than the target. */
  tooLong: (target: number) => Error;
  /** What a network failure becomes (transient or not). */
  networkError: (e: unknown) => Error;
}

/** Bodies of refused answers up to this size are read to keep the connection (as undici's `dump()`). */
const DROP_LIMIT = 128 << 10;

export function exchange(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, x: Exchange): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let answer: Answer | undefined;
    let wanted = false;
    let dropped = 0;
    let droppedTooMuch = false;
    let failure: Error | undefined;
    const abort = (controller: Dispatcher.DispatchController, e: Error) => {
      failure = e;
      controller.abort(e);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {
        answer = undefined;
        wanted = false;
        dropped = 0;
        droppedTooMuch = false;
      },
      onResponseStart(controller, status, headers) {
        // 1xx informational answers come before the real one.
        if (status < 200) return;
        answer = { status, headers, received: 0 };
        try {
          wanted = x.accept(status, headers);
        } catch (e) {
          abort(controller, e as Error);
        }
      },
      onResponseData(controller, chunk) {
        if (!answer || failure) return;
        if (!wanted) {
          dropped += chunk.length;
          if (dropped > DROP_LIMIT && !droppedTooMuch) {
            droppedTooMuch = true;
            controller.abort(new Error('body too long to drop'));
          }
          return;
        }
        const target = x.target!;
        if (answer.received + chunk.length > target.length) {
          abort(controller, x.tooLong(target.length));
          return;
        }
        chunk.copy(target, answer.received);
        answer.received += chunk.length;
      },
      onResponseEnd() {
        if (failure) reject(failure);
        else if (answer) resolve(answer);
        else reject(x.networkError(new Error('the response ended before its headers')));
      },
      onResponseError(_controller, e) {
        // A dropped body too long to read closes the connection; the answer itself stands.
        if (droppedTooMuch && answer) resolve(answer);
        else reject(failure ?? x.networkError(e));
      },
    };
    dispatcher.dispatch(opts, handler);
  });
}

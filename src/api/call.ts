import { ExitCode, KashError } from '../errors.js';
import { serverMessage } from './answers.js';
import { MAX_ANSWER_BYTES } from './body-limit.js';
import { httpStatus, networkError, redirected } from './network-errors.js';
import { proxyFor } from './proxy.js';
import { fetchFor, type TransportOptions } from './transport.js';

export interface ApiRequest extends TransportOptions {
  url: URL;
  method: 'GET' | 'POST';
  /** POST only: the form body. */
  body?: URLSearchParams | undefined;
  userAgent: string;
}

/** Where the body goes as it arrives; `first` holds it whole when it is at most 1 MiB. */
export interface BodyTarget {
  /** The first part of the body (all of it when `complete`), before any of it is written. */
  start(first: Uint8Array, complete: boolean): void;
  write(chunk: Uint8Array): void;
}

/** What came back: a JSON refusal (`success` false) of a small body, the service's words for it. */
export interface ApiOutcome {
  refusal: string | undefined;
}

/**
 * One request to the kash.click API: no redirect followed, nothing retried. The body is
 * streamed to `target` as it comes, in flat memory; the first byte must come within the
 * timeout, and so must each next one (silence in mid-body is a failure too).
 */
export async function callApi(request: ApiRequest, target: BodyTarget): Promise<ApiOutcome> {
  const where = request.url.origin + request.url.pathname;
  const { debug } = request;
  const fields = request.method === 'GET' ? request.url.searchParams : request.body;
  debug?.(`${request.method} ${where} fields: ${[...new Set(fields?.keys() ?? [])].join(', ') || 'none'}`);
  const started = performance.now();
  const controller = new AbortController();
  let silence = setTimeout(() => controller.abort(timedOut()), request.timeoutMs);
  const timedOut = () => Object.assign(new Error('timed out'), { name: 'TimeoutError' });
  const proxy = proxyFor(request.url, request.env ?? {});
  let reading = false;
  try {
    const transport = await fetchFor(request.url, request);
    const response = await transport(request.url, {
      method: request.method,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
      headers: { 'user-agent': request.userAgent },
    });
    debug?.(
      `${response.status} ${response.statusText} from ${where} after ${Math.round(performance.now() - started)} ms`,
    );
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw redirected(where, response.headers.get('location'));
    }
    reading = true;
    const reader = response.body?.getReader();
    const next = async () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(timedOut()), request.timeoutMs);
      return reader ? reader.read() : { done: true as const, value: undefined };
    };
    // Up to 1 MiB is kept, so that a small JSON refusal can be told apart; past that, it streams.
    const first: Uint8Array[] = [];
    let size = 0;
    let complete = false;
    while (size <= MAX_ANSWER_BYTES) {
      const { done, value } = await next();
      if (done) {
        complete = true;
        break;
      }
      first.push(value);
      size += value.byteLength;
    }
    const head = Buffer.concat(first);
    if (!response.ok) {
      await reader?.cancel();
      throw httpStatus(where, response.status, complete ? head.toString('utf8') : '', proxy);
    }
    target.start(head, complete);
    if (!complete) {
      const collect = garbageCollector();
      let sinceCollected = 0;
      for (;;) {
        const { done, value } = await next();
        if (done) break;
        size += value.byteLength;
        target.write(value);
        sinceCollected += value.byteLength;
        if (sinceCollected >= COLLECT_EVERY) {
          sinceCollected = 0;
          collect();
        }
      }
    }
    const type = response.headers.get('content-type') ?? 'no content type';
    debug?.(`read ${size} bytes (${type}) in ${Math.round(performance.now() - started)} ms`);
    return { refusal: complete ? refusalIn(head) : undefined };
  } catch (error) {
    if (error instanceof KashError) throw error;
    if (reading && controller.signal.aborted) {
      throw new KashError(ExitCode.service, `${where} went silent for ${request.timeoutMs / 1000} s`, {
        hint: 'Standard output may hold part of the body. Try again, or allow longer with --timeout / KASH_TIMEOUT.',
        cause: error,
      });
    }
    throw networkError(error, request.url, request.timeoutMs, proxy);
  } finally {
    clearTimeout(silence);
  }
}

/** How much of a streamed body may pass between two collections of the chunks written. */
const COLLECT_EVERY = 4 * 1024 * 1024;

/**
 * V8 collects the chunks of a body (memory outside its heap) only once some 64 MB of
 * them have piled up: on Node 24 a 100 MB export then peaks at ~170 MB. A young-generation
 * collection every few megabytes keeps it flat. (Node exposes gc() only to a context made
 * after --expose-gc is set.)
 */
function garbageCollector(): () => void {
  const v8 = process.getBuiltinModule('node:v8');
  v8.setFlagsFromString('--expose-gc');
  const gc = process.getBuiltinModule('node:vm').runInNewContext('gc') as (options: { type: string }) => void;
  return () => gc({ type: 'minor' });
}

/** A body that parses as JSON with `success` false: the service said no, in its own words. */
function refusalIn(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8').trim());
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const success = (parsed as { success?: unknown }).success;
  if (success !== false && success !== 'false' && success !== 0 && success !== '0') return undefined;
  return serverMessage(parsed) ?? 'no reason given';
}

import type { LogHeaders } from '../log.js';

// Most records have no headers: they all share this one (frozen) object instead of a new one each.
const NO_HEADERS: LogHeaders = Object.freeze({});

/** kafkajs' message headers as log headers (the last value where a header repeats). */
export function toHeaders(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): LogHeaders {
  if (!headers) return NO_HEADERS;
  let result: LogHeaders | undefined;
  for (const name in headers) {
    const value = headers[name];
    result ??= {};
    result[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return result ?? NO_HEADERS;
}


/** What replaces a secret in everything the console sends. */
export const REDACTED = '[redacted]';

/**
 * A function that removes secrets from text (JSON): every occurrence of one of `secrets` (also
 * JSON-escaped), and the password of any `scheme://user:password@host` URL.
 *
 * @example
 * redactor(['hunter2hunter2'])('{"message":"auth failed for hunter2hunter2"}'); // '{"message":"auth failed for [redacted]"}'
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= 4).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    // Longest first, so that a secret containing another is replaced whole.
    .sort((a, b) => b.length - a.length);
  const urlCredentials = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"]+):[^\s@/"]+@/gi;
  return (text) => {
    let out = text.replace(urlCredentials, `$1:${REDACTED}@`);
    for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, REDACTED);
    return out;
  };
}

/**
 * The secret strings in a configuration object: the values of keys that name secrets
 * (`password`, `token`, `nkeySeed`, `credentials`, `key`, `passphrase`, `pfx`), at any depth.
 *
 * @example
 * secretsIn({ sasl: { mechanism: 'plain', username: 'app', password: 's3cret-pass' } }); // ['s3cret-pass']
 */
export function secretsIn(value: unknown, depth = 0): string[] {
  if (depth > 6 || value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
    if (/^(password|pass|token|nkeySeed|seed|credentials|key|passphrase|pfx|authenticator)$/i.test(name)) {
      if (typeof inner === 'string') found.push(inner);
      else if (inner instanceof Uint8Array) found.push(Buffer.from(inner).toString());
    }
    if (typeof inner === 'object') found.push(...secretsIn(inner, depth + 1));
  }
  return found;
}

// Nothing kash sent ever comes back on screen (CLI.md, "Safety rules"): the run's
// secrets are taken out of every line written to stderr, whoever built it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import { Secrets } from '../../src/output/redact.js';
import { commandTestHooks, kash, scriptIO, service } from '../support/fakes.js';

const sandbox = commandTestHooks();

describe('Secrets.redact', () => {
  const PASSWORD = 'pw-SECRET 123&x=y';
  const secrets = new Secrets();
  secrets.add(PASSWORD);

  it.each([
    ['as sent', PASSWORD],
    ['URL-encoded', encodeURIComponent(PASSWORD)],
    ['form-encoded', new URLSearchParams({ p: PASSWORD }).toString().slice(2)],
    ['JSON-escaped', JSON.stringify(PASSWORD).slice(1, -1)],
    ['HTML-escaped', 'pw-SECRET 123&amp;x=y'],
    ['HTML-escaped by number', 'pw-SECRET 123&#38;x&#x3D;y'],
    ['with PHP’s rawurlencode (%20, upper-case hex)', 'pw-SECRET%20123%26x%3Dy'],
    ['percent-encoded in lower-case hex', 'pw-SECRET+123%26x%3dy'],
    ['JSON-escaped by code point', 'pw-SECRET 123\\u0026x=y'],
    ['with its space doubled', 'pw-SECRET  123&x=y'],
    ['with its space gone, as server text shown may lose it', 'pw-SECRET123&x=y'],
  ])('takes the value out %s', (_how, form) => {
    expect(secrets.redact(`got password=${form}; bye`)).toBe('got password=[redacted]; bye');
  });

  it.each([
    ['rawurlencode', 'p%2Fw%2A!', 'p/w*!'],
    ['lower-case hex', 'p%2fw%2a!', 'p/w*!'],
    ['JSON’s escaped slash', 'p\\/w*!', 'p/w*!'],
  ])('takes out characters that encodeURIComponent leaves as they are, spelled with %s', (_how, form, value) => {
    const own = new Secrets();
    own.add(value);
    expect(own.redact(`got ${form}; bye`)).toBe('got [redacted]; bye');
  });

  it.each([
    ['its first characters', 'got password=pw-SEC…'],
    ['its first character, standing alone', 'got password=p…'],
    ['half an encoded character', 'got password=pw-SECRET%2…'],
    ['a space before the cut', 'got password=pw-SECRET …'],
  ])('where shown text was cut short, takes out %s', (_what, text) => {
    expect(secrets.redact(`${text} (from the service)`)).toBe('got password=[redacted]… (from the service)');
  });

  it('a cut after other words leaves them', () => {
    expect(secrets.redact('the service said: Authenticati…')).toBe('the service said: Authenticati…');
  });

  it('leaves text without secrets as it is, and knows nothing until told', () => {
    expect(secrets.redact('Authentication error')).toBe('Authentication error');
    expect(new Secrets().redact(`x ${PASSWORD}`)).toBe(`x ${PASSWORD}`);
  });

  it('a short value goes only where it stands alone, not out of every word', () => {
    const short = new Secrets();
    short.add('42');
    expect(short.redact('code 42 sent to shop 1422')).toBe('code [redacted] sent to shop 1422');
  });
});

describe('Secrets.redact, printable secrets in text with no spelling marks', () => {
  // Such text skips the patterns; one secret with a space in it makes another Secrets take
  // them for every text, and both must always agree.
  const spellings = (value: string) => [
    value,
    encodeURIComponent(value),
    value.replace(/./g, (c) => `%${c.charCodeAt(0).toString(16)}`),
    value.replace(/./g, (c) => `&#${c.charCodeAt(0)};`),
    JSON.stringify(value).slice(1, -1),
    `${value.slice(0, 3)}…`,
  ];
  it('redacts exactly as the patterns do', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[!-~]{1,12}$/), { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constant(' '), fc.nat(5)), { maxLength: 8 }),
        (values, pieces) => {
          const fast = new Secrets();
          const full = new Secrets();
          for (const value of values) {
            fast.add(value);
            full.add(value);
          }
          // Controls alone: no pattern of it can match the text, yet it is no printable secret.
          full.add('\u0001\u0002');
          const text = pieces
            .map((piece) =>
              typeof piece === 'number' ? (spellings(values[piece % values.length]!)[piece] ?? '') : piece,
            )
            .join('');
          expect(fast.redact(text)).toBe(full.redact(text));
        },
      ),
      { numRuns: 400, examples: [[['!n\\!'], ['0', 5]]] },
    );
  });
});

describe('a service that echoes what it was sent', () => {
  const LOGIN = 'owner@example.com';
  const PASSWORD = 'pw-SECRET-123';
  const withPassword = () => ({ ...sandbox().env, KASH_PASSWORD: PASSWORD });

  it.each([
    [
      'in its refusal',
      () =>
        service()
          .post(ENDPOINTS.password)
          .reply(200, (_uri, body) => ({ success: false, result: `Authentication error: got ${String(body)}` })),
    ],
    [
      'in an error page',
      () =>
        service()
          .post(ENDPOINTS.password)
          .reply(500, (_uri, body) => `<html><body>${String(body)}</body></html>`),
    ],
    [
      'in a redirect target',
      () =>
        service()
          .post(ENDPOINTS.password)
          .reply(302, '', { Location: `https://kash.test/login?pw=${PASSWORD}` }),
    ],
    ['in a network error', () => service().post(ENDPOINTS.password).replyWithError(`socket said ${PASSWORD}`)],
  ])('%s: stderr holds [redacted], never the password, also with --verbose', async (_where, arrange) => {
    for (const verbose of [false, true]) {
      arrange();
      const io = scriptIO();
      const args = ['login', '--login', LOGIN, ...(verbose ? ['--verbose'] : [])];
      expect(await kash(args, io, withPassword())).not.toBe(0);
      expect(io.err).not.toContain(PASSWORD);
      expect(io.err).not.toContain(encodeURIComponent(PASSWORD));
      expect(io.out).toBe('');
    }
  });

  it.each([
    [
      'collapses the password’s spaces',
      'pw  SECRET   123',
      (body: string) => `got ${decodeURIComponent(body.replace(/\+/g, ' ')).replace(/\s+/g, ' ')}`,
    ],
    [
      'cuts it short at 200 characters',
      'pw-SECRET-123456',
      // The cut falls inside the password: 155 + 35 characters come before it.
      (body: string) => `${'x'.repeat(150)} got ${body}`,
    ],
    [
      'spells it with rawurlencode',
      'pw/SECRET*123',
      (body: string) =>
        `got ${new URLSearchParams(body).get('password')?.replace(/[^\w.~-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
    ],
  ])('a refusal that %s shows no part of it', async (_how, password, echo) => {
    service()
      .post(ENDPOINTS.password)
      .reply(200, (_uri, body) => ({ success: false, result: echo(String(body)) }));
    const io = scriptIO();
    expect(await kash(['login', '--login', LOGIN], io, { ...sandbox().env, KASH_PASSWORD: password })).toBe(3);
    expect(io.err).toContain('[redacted]');
    for (const part of password.split(/[\s/*-]+/)) expect(io.err).not.toContain(part);
  });

  it('says what the server said, with the echoed password replaced', async () => {
    service()
      .post(ENDPOINTS.password)
      .reply(200, (_uri, body) => ({ success: false, result: `Authentication error: got ${String(body)}` }));
    const io = scriptIO();
    expect(await kash(['login', '--login', LOGIN], io, withPassword())).toBe(3);
    expect(io.err).toContain('Authentication error: got login=owner%40example.com&password=[redacted]');
  });
});

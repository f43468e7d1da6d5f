// Nothing kash sent ever comes back on screen (CLI.md, "Safety rules"): the run's
// secrets are taken out of every line written to stderr, whoever built it.
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
  ])('takes the value out %s', (_how, form) => {
    expect(secrets.redact(`got password=${form}; bye`)).toBe('got password=[redacted]; bye');
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

  it('says what the server said, with the echoed password replaced', async () => {
    service()
      .post(ENDPOINTS.password)
      .reply(200, (_uri, body) => ({ success: false, result: `Authentication error: got ${String(body)}` }));
    const io = scriptIO();
    expect(await kash(['login', '--login', LOGIN], io, withPassword())).toBe(3);
    expect(io.err).toContain('Authentication error: got login=owner%40example.com&password=[redacted]');
  });
});

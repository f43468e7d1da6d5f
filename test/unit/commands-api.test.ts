// kash api (CLI.md, "The API"), against strict nock: what is sent, where, with which
// three fields; what reaches stdout and when; the exit codes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointUrl } from '../../src/commands/api.js';
import { KashError } from '../../src/errors.js';
import { binaryReason, prettyJson } from '../../src/output/body.js';
import {
  BASE_URL,
  commandTestHooks,
  errorLines,
  fakeIO,
  kash,
  scriptIO,
  seedProfile,
  service,
} from '../support/fakes.js';

const sandbox = commandTestHooks();
const KEY = 'KEY-abcdef0123456789-SECRET';

async function loggedIn(extra: Record<string, unknown> = {}) {
  const box = sandbox();
  await seedProfile(box.dir, 'default', { apiKey: KEY, shopId: '42', ...extra });
  return box;
}

describe('endpointUrl', () => {
  it.each([
    ['getPaymentModes', 'https://kash.test/workers/getPaymentModes.php'],
    ['/workers/getSales.php?d=1', 'https://kash.test/workers/getSales.php?d=1'],
    ['https://kash.test/workers/x.php', 'https://kash.test/workers/x.php'],
  ])('%s is %s', (endpoint, url) => {
    expect(endpointUrl(BASE_URL, endpoint).href).toBe(url);
  });

  it('a path goes under the base URL’s own path', () => {
    expect(endpointUrl('https://kash.test/sub', '/workers/a.php').href).toBe('https://kash.test/sub/workers/a.php');
  });

  it.each([
    'https://elsewhere.test/workers/x.php',
    'http://kash.test/x',
    '/workers/../admin',
    '/a/%2e%2e/b',
    'get-sales',
    'getPlus\u0007',
    'javascript:alert(1)',
  ])('%s is refused', (endpoint) => {
    expect(() => endpointUrl(BASE_URL, endpoint)).toThrow(KashError);
  });
});

describe('what is sent', () => {
  it('GET: the user’s fields, then key, shopID and idboutique, in the query; the body on stdout as it is', async () => {
    const { env } = await loggedIn();
    const body = '{"a":[1,2],"n":12345678901234567890}';
    service()
      .get('/workers/getPaymentModes.php')
      .query((query) => {
        expect(new URLSearchParams(query as Record<string, string>).toString()).toBe(
          `format=json&key=${KEY}&shopID=42&idboutique=42`,
        );
        return true;
      })
      .reply(200, body, { 'content-type': 'text/html' });
    const io = scriptIO();
    expect(await kash(['api', 'getPaymentModes', '-f', 'format=json'], io, env)).toBe(0);
    expect(io.out).toBe(body);
    expect(io.err).toBe('');
  });

  it('POST: a form body with repeated fields in order; the endpoint’s own query kept', async () => {
    const { env } = await loggedIn();
    let sent = '';
    service()
      .post('/workers/webapp.php?x=1')
      .reply(200, (_uri, body) => {
        sent = String(body);
        return { success: true, orderID: 9 };
      });
    const io = scriptIO();
    const args = ['api', '/workers/webapp.php?x=1', '-X', 'POST', '-f', 'itemsList[]=12', '-f', 'itemsList[]=15'];
    expect(await kash(args, io, env)).toBe(0);
    expect(sent).toBe(`itemsList%5B%5D=12&itemsList%5B%5D=15&key=${KEY}&shopID=42&idboutique=42`);
    expect(JSON.parse(io.out)).toEqual({ success: true, orderID: 9 });
  });

  it.each([['key=x'], ['shopID=1'], ['idboutique=1'], ['KEY=x'], ['nameless']])(
    '-f %s is a usage error, nothing sent',
    async (field) => {
      const { env } = await loggedIn();
      const io = scriptIO();
      expect(await kash(['api', 'getPlus', '-f', field], io, env)).toBe(2);
    },
  );

  it('another origin is refused with nothing sent; --json is a usage error', async () => {
    const { env } = await loggedIn();
    expect(await kash(['api', 'https://evil.test/workers/x.php'], scriptIO(), env)).toBe(2);
    expect(await kash(['api', 'getPlus', '--json'], scriptIO(), env)).toBe(2);
  });

  it('the profile’s own base URL, unless --base-url or KASH_BASE_URL is given', async () => {
    const { env } = await loggedIn({ baseUrl: 'https://other.test' });
    const { KASH_BASE_URL: _, ...withoutBase } = env;
    const nock = (await import('nock')).default;
    nock('https://other.test').get('/workers/getPlus.php').query(true).reply(200, 'from the saved one');
    const saved = scriptIO();
    expect(await kash(['api', 'getPlus'], saved, withoutBase)).toBe(0);
    expect(saved.out).toBe('from the saved one');
    service().get('/workers/getPlus.php').query(true).reply(200, 'from the setting');
    const given = scriptIO();
    expect(await kash(['api', 'getPlus'], given, env)).toBe(0);
    expect(given.out).toBe('from the setting');
  });

  it('environment credentials, with the base URL setting; not logged in is exit 5', async () => {
    const { env } = sandbox();
    expect(await kash(['api', 'getPlus'], scriptIO(), env)).toBe(5);
    service()
      .get('/workers/getPlus.php')
      .query({ key: 'ENVKEY-0123456789', shopID: '7', idboutique: '7' })
      .reply(200, 'ok');
    const io = scriptIO();
    expect(await kash(['api', 'getPlus'], io, { ...env, KASH_APIKEY: 'ENVKEY-0123456789', KASH_SHOPID: '7' })).toBe(0);
    expect(io.out).toBe('ok');
  });
});

describe('what comes back', () => {
  it('a JSON success:false of at most 1 MiB is exit 3, its result on stderr, the body still on stdout', async () => {
    const { env } = await loggedIn();
    service().get('/workers/getPlus.php').query(true).reply(200, '{"success":false,"result":"Wrong key"}');
    const io = scriptIO();
    expect(await kash(['api', 'getPlus'], io, env)).toBe(3);
    expect(errorLines(io)).toEqual(['error: the service refused: Wrong key']);
    expect(io.out).toBe('{"success":false,"result":"Wrong key"}');
  });

  it.each([
    [
      'an HTTP 500',
      () => service().get('/workers/getPlus.php').query(true).reply(500, '<html>down</html>'),
      /answered HTTP 500/,
    ],
    [
      'a redirect, not followed',
      () =>
        service()
          .get('/workers/getPlus.php')
          .query(true)
          .reply(302, '', { Location: `${BASE_URL}/login?key=${KEY}` }),
      /redirect to https:\/\/kash\.test\/login\?key=\[redacted\]/,
    ],
  ])('%s is exit 4, nothing on stdout, the key never on stderr', async (_what, arrange, says) => {
    const { env } = await loggedIn();
    arrange();
    const io = scriptIO();
    expect(await kash(['api', 'getPlus', '--verbose'], io, env)).toBe(4);
    expect(errorLines(io)[0]).toMatch(says);
    expect(io.out).toBe('');
    expect(io.err).not.toContain(KEY);
  });

  it('--verbose names the method, path, field names and status, never the key', async () => {
    const { env } = await loggedIn();
    service().get('/workers/getPlus.php').query(true).reply(200, 'ok');
    const io = scriptIO();
    expect(await kash(['api', 'getPlus', '-f', 'format=csv', '--verbose'], io, env)).toBe(0);
    expect(io.err).toContain('GET https://kash.test/workers/getPlus.php fields: format, key, shopID, idboutique');
    expect(io.err).toMatch(/200 OK from https:\/\/kash\.test\/workers\/getPlus\.php/);
    expect(io.err).not.toContain(KEY);
  });

  it('at a terminal: JSON laid out; a binary body refused; piped, both as they are', async () => {
    const { env } = await loggedIn();
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x00]);
    service().get('/workers/getPlus.php').query(true).reply(200, '{"a":[1,{}]}');
    service().get('/workers/getSales.php').query(true).reply(200, pdf);
    service().get('/workers/getSales.php').query(true).reply(200, pdf);
    const terminal = () => fakeIO({ stdinTTY: true, stderrTTY: true, stdoutTTY: true });
    const json = terminal();
    expect(await kash(['api', 'getPlus'], json, env)).toBe(0);
    expect(json.out).toBe('{\n  "a": [\n    1,\n    {}\n  ]\n}\n');
    const binary = terminal();
    expect(await kash(['api', 'getSales'], binary, env)).toBe(1);
    expect(errorLines(binary)[0]).toMatch(/binary .* not write it to a terminal/);
    expect(binary.outBytes.length).toBe(0);
    const piped = scriptIO();
    expect(await kash(['api', 'getSales'], piped, env)).toBe(0);
    expect(piped.outBytes.equals(pdf)).toBe(true);
  });

  it('--output: written whole, atomically; left untouched when kash exits non-zero', async () => {
    const { dir, env } = await loggedIn();
    const file = join(dir, 'sales.csv');
    writeFileSync(file, 'old contents');
    service().get('/workers/getSales.php').query(true).reply(500, 'no');
    expect(await kash(['api', 'getSales', '--output', file], scriptIO(), env)).toBe(4);
    service().get('/workers/getSales.php').query(true).reply(200, '{"success":false,"result":"no"}');
    expect(await kash(['api', 'getSales', '--output', file], scriptIO(), env)).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe('old contents');
    service().get('/workers/getSales.php').query(true).reply(200, 'a;b\n1;2\n');
    const io = scriptIO();
    expect(await kash(['api', 'getSales', '--output', file], io, env)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('a;b\n1;2\n');
    expect(io.out).toBe('');
    expect(readdirSync(dir).filter((name) => name.includes('.kash-'))).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});

describe('binaryReason and prettyJson', () => {
  it.each([
    ['text', 'a;b\r\n1\t2\n', undefined],
    ['UTF-8', 'Café ✓', undefined],
    ['a NUL', 'a\u0000b', /NUL/],
    ['an escape', 'a\u001b[2Jb', /escape/],
    ['a bell', 'a\u0007', /control/],
    ['Latin-1', Buffer.from([0x63, 0x61, 0x66, 0xe9]), /not UTF-8/],
  ])('%s', (_what, body, expected) => {
    const reason = binaryReason(typeof body === 'string' ? Buffer.from(body) : body);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('a character cut at the end of what is sniffed is not "not UTF-8"', () => {
    const long = Buffer.from(`${'a'.repeat(8191)}é`);
    expect(binaryReason(long)).toBeUndefined();
  });

  it('keeps every token, lays out the rest', () => {
    expect(prettyJson('{"n":12345678901234567890,"s":"a,\\"b\\":{}","e":[]}')).toBe(
      '{\n  "n": 12345678901234567890,\n  "s": "a,\\"b\\":{}",\n  "e": []\n}\n',
    );
    expect(prettyJson('not json')).toBeUndefined();
  });
});

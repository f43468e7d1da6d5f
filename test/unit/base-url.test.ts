import { describe, expect, it } from 'vitest';
import { parseBaseUrl } from '../../src/api/base-url.js';
import { ExitCode, KashError } from '../../src/errors.js';

function refusal(value: string): KashError {
  try {
    parseBaseUrl(value);
  } catch (error) {
    expect(error).toBeInstanceOf(KashError);
    return error as KashError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('parseBaseUrl accepts', () => {
  it.each([
    ['https://kash.click', 'https://kash.click'],
    ['https://kash.click/', 'https://kash.click'],
    ['https://kash.click///', 'https://kash.click'],
    ['https://caisse.enregistreuse.fr/', 'https://caisse.enregistreuse.fr'],
    ['https://free-cash-register.net', 'https://free-cash-register.net'],
    ['HTTPS://KASH.Click/', 'https://kash.click'],
    ['https://kash.click:8443/', 'https://kash.click:8443'],
    ['https://kash.click:443/', 'https://kash.click'],
    ['https://kash.click/sub/dir/', 'https://kash.click/sub/dir'],
    ['https://203.0.113.7', 'https://203.0.113.7'],
    ['  https://kash.click/  ', 'https://kash.click'],
    ['http://127.0.0.1', 'http://127.0.0.1'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://127.1.2.3:9000', 'http://127.1.2.3:9000'],
    ['http://127.255.255.254/', 'http://127.255.255.254'],
    ['http://127.0.0.1:8080/mock/', 'http://127.0.0.1:8080/mock'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
    ['http://[::1]/', 'http://[::1]'],
    ['http://[0:0:0:0:0:0:0:1]:8080/', 'http://[::1]:8080'],
    ['http://localhost', 'http://localhost'],
    ['http://localhost:3000/', 'http://localhost:3000'],
    ['http://LOCALHOST:3000', 'http://localhost:3000'],
  ])('%j as %j', (value, expected) => {
    expect(parseBaseUrl(value)).toBe(expected);
  });

  it('returns a root onto which an endpoint path can be appended', () => {
    const root = parseBaseUrl('https://kash.click/');
    expect(new URL(`${root}/workers/listShops.php`).href).toBe('https://kash.click/workers/listShops.php');
  });
});

describe('parseBaseUrl refuses with exit 2', () => {
  it.each([
    ['plain http to a real host', 'http://example.com'],
    ['plain http to kash.click', 'http://kash.click'],
    ['plain http to a private address', 'http://10.0.0.1'],
    ['plain http to 128.0.0.1', 'http://128.0.0.1'],
    ['plain http to 0.0.0.0', 'http://0.0.0.0:8080'],
    ['plain http to another IPv6 address', 'http://[::2]:8080'],
    ['plain http to an IPv4-mapped public IPv6', 'http://[::ffff:8.8.8.8]'],
    ['a host that merely starts with localhost', 'http://localhost.evil.test'],
    ['a host that merely ends with localhost', 'http://evillocalhost'],
    ['a host that merely starts with 127.0.0.1', 'http://127.0.0.1.evil.test'],
    ['ftp', 'ftp://kash.click'],
    ['file', 'file:///etc/passwd'],
    ['ws', 'ws://localhost:8080'],
    ['javascript', 'javascript:alert(1)'],
    ['data', 'data:text/plain,hello'],
    ['no scheme', 'kash.click'],
    ['a relative path', '/workers'],
    ['an empty string', ''],
    ['garbage', 'not a url at all'],
    ['a scheme with no host', 'https://'],
    ['a bad port', 'https://kash.click:99999'],
    ['user and password', 'https://user:pass@kash.click'],
    ['a user name', 'https://user@kash.click'],
    ['user and password on loopback', 'http://user:pass@127.0.0.1:8080'],
    ['a loopback user-info trick', 'http://localhost:80@evil.test'],
    ['a query string', 'https://kash.click/?x=1'],
    ['a query string without a slash', 'https://kash.click?debug=1'],
    ['a fragment', 'https://kash.click/#top'],
  ])('%s (%j)', (_label, value) => {
    const error = refusal(value);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/https:\/\//);
  });

  it('does not repeat a password it was given', () => {
    const error = refusal('https://admin:hunter2-Secret@kash.click');
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('hunter2-Secret');
  });

  it('keeps a huge garbage value out of the message', () => {
    const error = refusal(`not a url ${'x'.repeat(5_000)}`);
    expect(error.exitCode).toBe(2);
    expect(error.message.length).toBeLessThan(500);
  });
});

describe('parseBaseUrl never yields a root that breaks endpoint paths', () => {
  // An empty query ("?") or fragment ("#") leaves url.search / url.hash empty, but the
  // marker stays in href: appending "/workers/…" to it would send the request to "/".
  it.each([
    'https://kash.click/?',
    'https://kash.click?',
    'https://kash.click/#',
    'https://kash.click#',
    'http://127.0.0.1:8080/?',
  ])('%j is refused (exit 2) or cleaned', (value) => {
    let root: string;
    try {
      root = parseBaseUrl(value);
    } catch (error) {
      expect(error).toBeInstanceOf(KashError);
      expect((error as KashError).exitCode).toBe(2);
      return;
    }
    expect(root).not.toMatch(/[?#]/);
    expect(new URL(`${root}/workers/listShops.php`).pathname).toBe('/workers/listShops.php');
  });
});

describe('a base URL without a scheme', () => {
  it.each([
    ['localhost:8787', 'http://localhost:8787'],
    ['127.0.0.1:8787/x', 'http://127.0.0.1:8787/x'],
    ['kash.click:443', 'https://kash.click:443'],
    ['kash.click', 'https://kash.click'],
  ])('%s is a usage error quoting it and suggesting %s', (value, suggested) => {
    const error = refusal(value);
    expect(error.message).toBe(`the base URL "${value}" has no scheme`);
    expect(error.hint).toBe(`Give it whole, e.g. --base-url ${suggested}.`);
  });

  it('never says "credentials", nor "null"', () => {
    for (const value of ['localhost:8787', 'http://kash.click', 'ftp://kash.click']) {
      expect(`${refusal(value).message} ${refusal(value).hint}`).not.toMatch(/credentials|null/);
    }
  });
});

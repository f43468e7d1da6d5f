// Which proxy a request goes through (shared/CLI.md, "Network"): HTTPS_PROXY, HTTP_PROXY
// and NO_PROXY in either case, read as undici and curl read them; and how a proxy URL is
// shown, never with its password.
import { describe, expect, it } from 'vitest';
import { proxyFor, shownProxy } from '../../src/api/proxy.js';
import { ExitCode, KashError } from '../../src/errors.js';

const HTTPS = new URL('https://kash.click');
// Not loopback: loopback never goes through a proxy. (kash itself sends http:// only to loopback.)
const HTTP = new URL('http://intranet.example:8080');

/** The proxy's href for `url` under `env`, or null when the request goes direct. */
const via = (url: URL | string, env: NodeJS.ProcessEnv): string | null =>
  proxyFor(typeof url === 'string' ? new URL(url) : url, env)?.href ?? null;

describe('proxyFor: which variable applies', () => {
  it.each<[string, URL, NodeJS.ProcessEnv, string | null]>([
    ['no variable: direct', HTTPS, {}, null],
    ['HTTPS_PROXY for an https URL', HTTPS, { HTTPS_PROXY: 'http://upper:3128' }, 'http://upper:3128/'],
    ['https_proxy for an https URL', HTTPS, { https_proxy: 'http://lower:3128' }, 'http://lower:3128/'],
    [
      'both cases set: the lower case wins, as in undici and curl',
      HTTPS,
      { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' },
      'http://lower:3128/',
    ],
    ['https falls back to HTTP_PROXY', HTTPS, { HTTP_PROXY: 'http://plain:8080' }, 'http://plain:8080/'],
    ['https falls back to http_proxy', HTTPS, { http_proxy: 'http://plain:8080' }, 'http://plain:8080/'],
    [
      'HTTPS_PROXY beats HTTP_PROXY for https',
      HTTPS,
      { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:8080' },
      'http://secure:3128/',
    ],
    ['an http URL uses HTTP_PROXY', HTTP, { HTTP_PROXY: 'http://plain:8080' }, 'http://plain:8080/'],
    ['an http URL uses http_proxy', HTTP, { http_proxy: 'http://plain:8080' }, 'http://plain:8080/'],
    [
      'http_proxy beats HTTP_PROXY',
      HTTP,
      { HTTP_PROXY: 'http://upper:8080', http_proxy: 'http://lower:8080' },
      'http://lower:8080/',
    ],
    [
      'an http URL never uses HTTPS_PROXY',
      HTTP,
      { HTTPS_PROXY: 'http://secure:3128', https_proxy: 'http://secure:3128' },
      null,
    ],
    [
      'an http URL with both: HTTP_PROXY',
      HTTP,
      { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:8080' },
      'http://plain:8080/',
    ],
    [
      'an empty HTTPS_PROXY is ignored: HTTP_PROXY applies',
      HTTPS,
      { HTTPS_PROXY: '', HTTP_PROXY: 'http://plain:8080' },
      'http://plain:8080/',
    ],
    [
      'a blank HTTPS_PROXY is ignored: HTTP_PROXY applies',
      HTTPS,
      { HTTPS_PROXY: '   ', HTTP_PROXY: 'http://plain:8080' },
      'http://plain:8080/',
    ],
    ['an empty HTTP_PROXY: direct', HTTP, { HTTP_PROXY: '' }, null],
    ['empty everything: direct', HTTPS, { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '' }, null],
    // undici reads `https_proxy ?? HTTPS_PROXY`: an empty lower-case variable hides the upper-case one.
    [
      'an empty https_proxy hides HTTPS_PROXY, as in undici',
      HTTPS,
      { https_proxy: '', HTTPS_PROXY: 'http://upper:3128' },
      null,
    ],
    ['surrounding spaces are trimmed', HTTPS, { HTTPS_PROXY: '  http://spaced:3128  ' }, 'http://spaced:3128/'],
    ['an https:// proxy is kept', HTTPS, { HTTPS_PROXY: 'https://tls-proxy:443' }, 'https://tls-proxy/'],
    ['a proxy without a scheme is http://', HTTPS, { HTTPS_PROXY: 'proxy:3128' }, 'http://proxy:3128/'],
    ['a bare host name is http://', HTTPS, { HTTPS_PROXY: 'proxy.corp' }, 'http://proxy.corp/'],
    [
      'credentials without a scheme are kept',
      HTTPS,
      { HTTPS_PROXY: 'user:pw@proxy:3128' },
      'http://user:pw@proxy:3128/',
    ],
    ['an IPv4 proxy without a scheme', HTTP, { HTTP_PROXY: '10.0.0.1:3128' }, 'http://10.0.0.1:3128/'],
    ['an IPv6 proxy', HTTP, { HTTP_PROXY: 'http://[fd00::1]:3128' }, 'http://[fd00::1]:3128/'],
  ])('%s', (_name, url, env, expected) => {
    expect(via(url, env)).toBe(expected);
  });
});

describe('proxyFor: loopback', () => {
  // The http:// that loopback is allowed is for this machine only: a proxy elsewhere would get the password in clear.
  it.each([
    'http://127.0.0.1:8787',
    'http://127.9.9.9',
    'http://localhost:8080',
    'http://[::1]:8080',
    'https://localhost',
  ])('%s never goes through a proxy, whatever NO_PROXY says', (target) => {
    const everything = {
      HTTPS_PROXY: 'http://p:1',
      HTTP_PROXY: 'http://p:1',
      https_proxy: 'http://p:1',
      http_proxy: 'http://p:1',
    };
    expect(via(target, everything)).toBeNull();
    expect(via(target, { ...everything, NO_PROXY: 'kash.click' })).toBeNull();
    expect(via(target, { ...everything, no_proxy: '' })).toBeNull();
  });
});

describe('proxyFor: NO_PROXY', () => {
  const PROXY = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128' };
  const PROXIED = 'http://proxy:3128/';

  it.each<[string, string, string, boolean]>([
    // [why, NO_PROXY, target URL, bypassed]
    ['* bypasses everything', '*', 'https://kash.click', true],
    ['* bypasses an IP too', '*', 'http://10.0.0.1:8080', true],
    ['an exact host', 'kash.click', 'https://kash.click', true],
    ['an exact host does not match another host', 'kash.click', 'https://caisse.enregistreuse.fr', false],
    ['a name matches its subdomains', 'example.com', 'https://api.example.com', true],
    ['a name matches deep subdomains', 'example.com', 'https://a.b.example.com', true],
    ['a name does not match a host that merely ends like it', 'example.com', 'https://badexample.com', false],
    ['a name does not match its parent', 'api.example.com', 'https://example.com', false],
    ['.example.com matches a subdomain', '.example.com', 'https://api.example.com', true],
    ['.example.com does not match a host that merely ends like it', '.example.com', 'https://notexample.com', false],
    ['*.example.com matches a subdomain', '*.example.com', 'https://api.example.com', true],
    ['host:port with the right port', 'kash.click:8443', 'https://kash.click:8443', true],
    ['host:port with a wrong port', 'kash.click:8443', 'https://kash.click', false],
    ['host:443 matches https on its default port', 'kash.click:443', 'https://kash.click', true],
    ['host:80 matches http on its default port', 'example.com:80', 'http://example.com', true],
    ['host:80 does not match https on 443', 'kash.click:80', 'https://kash.click', false],
    ['an IPv4 address', '10.0.0.1', 'http://10.0.0.1:8080', true],
    ['another IPv4 address does not match', '10.0.0.2', 'http://10.0.0.1:8080', false],
    ['an IPv4 address with the right port', '10.0.0.1:8080', 'http://10.0.0.1:8080', true],
    ['an IPv4 address with a wrong port', '10.0.0.1:9090', 'http://10.0.0.1:8080', false],
    ['[2001:db8::1]', '[2001:db8::1]', 'http://[2001:db8::1]:8080', true],
    ['[2001:db8::1] with the right port', '[2001:db8::1]:8080', 'http://[2001:db8::1]:8080', true],
    ['[2001:db8::1] with a wrong port', '[2001:db8::1]:9090', 'http://[2001:db8::1]:8080', false],
    // The form of NO_PROXY that Docker's and most corporate set-ups write: curl honours it.
    ['an IPv6 address without brackets', 'localhost,127.0.0.1,2001:db8::1', 'http://[2001:db8::1]:8080', true],
    ['[2001:db8::1] does not match 10.0.0.1', '[2001:db8::1]', 'http://10.0.0.1:8080', false],
    ['comma-separated list', 'a.test,kash.click,b.test', 'https://kash.click', true],
    ['comma and spaces', 'a.test, kash.click , b.test', 'https://kash.click', true],
    ['space-separated list', 'a.test kash.click b.test', 'https://kash.click', true],
    ['empty entries are skipped', ',, ,kash.click,', 'https://kash.click', true],
    ['a list without the host', 'a.test, b.test', 'https://kash.click', false],
    ['names are case-insensitive (entry)', 'KASH.Click', 'https://kash.click', true],
    ['names are case-insensitive (URL)', 'kash.click', 'https://KASH.CLICK', true],
    ['an empty NO_PROXY bypasses nothing', '', 'https://kash.click', false],
    ['a blank NO_PROXY bypasses nothing', '   ', 'https://kash.click', false],
  ])('%s: NO_PROXY=%j for %s', (_why, noProxy, target, bypassed) => {
    expect(via(target, { ...PROXY, NO_PROXY: noProxy })).toBe(bypassed ? null : PROXIED);
  });

  it('reads no_proxy as well as NO_PROXY, the lower case first', () => {
    expect(via(HTTPS, { ...PROXY, no_proxy: 'kash.click' })).toBeNull();
    expect(via(HTTPS, { ...PROXY, NO_PROXY: 'kash.click' })).toBeNull();
    expect(via(HTTPS, { ...PROXY, no_proxy: 'other.test', NO_PROXY: 'kash.click' })).toBe(PROXIED);
    expect(via(HTTPS, { ...PROXY, no_proxy: 'kash.click', NO_PROXY: 'other.test' })).toBeNull();
  });

  it('NO_PROXY without any proxy variable: direct', () => {
    expect(via(HTTPS, { NO_PROXY: 'other.test' })).toBeNull();
  });

  it('a bypassed host is direct even when the proxy URL is invalid (nothing to complain about)', () => {
    expect(via(HTTPS, { HTTPS_PROXY: 'socks5://proxy:1080', NO_PROXY: 'kash.click' })).toBeNull();
  });
});

describe('proxyFor: a proxy URL kash cannot use is a usage error (exit 2)', () => {
  const usage = (url: URL, env: NodeJS.ProcessEnv): KashError => {
    let thrown: unknown;
    try {
      proxyFor(url, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KashError);
    expect((thrown as KashError).exitCode).toBe(ExitCode.usage);
    return thrown as KashError;
  };

  it.each<[string, string]>([
    ['socks5://', 'socks5://proxy:1080'],
    ['socks://', 'socks://proxy:1080'],
    ['socks5h://', 'socks5h://proxy:1080'],
    ['ftp://', 'ftp://proxy:21'],
    ['a scheme and nothing else', 'http://'],
    ['an unclosed IPv6 bracket', 'http://[::1:3128'],
    ['a port that is not a number', 'http://proxy:port'],
    ['a port out of range', 'http://proxy:99999'],
    ['a space inside the host', 'http://pro xy:3128'],
  ])('HTTPS_PROXY with %s', (_what, value) => {
    const error = usage(HTTPS, { HTTPS_PROXY: value });
    expect(error.message).toMatch(/\bHTTPS_PROXY\b/);
    expect(error.hint).toMatch(/http:\/\//);
  });

  it('HTTP_PROXY with socks5:// for an http URL names HTTP_PROXY', () => {
    expect(usage(HTTP, { HTTP_PROXY: 'socks5://proxy:1080' }).message).toMatch(/\bHTTP_PROXY\b/);
  });

  it('an https URL falling back to an invalid HTTP_PROXY names HTTP_PROXY, the variable that holds it', () => {
    const error = usage(HTTPS, { HTTP_PROXY: 'socks5://proxy:1080' });
    expect(error.message).toMatch(/\bHTTP_PROXY\b/);
    expect(error.message).not.toMatch(/\bHTTPS_PROXY\b/);
  });

  it('the error never shows the invalid value, which may hold a password', () => {
    const error = usage(HTTPS, { HTTPS_PROXY: 'socks5://alice:Hunter2-Secret@proxy:1080' });
    expect(`${error.message}\n${error.hint ?? ''}`).not.toContain('Hunter2-Secret');
  });
});

describe('shownProxy', () => {
  it.each<[string, string]>([
    ['http://proxy.corp:3128', 'http://proxy.corp:3128'],
    ['http://proxy.corp:3128/', 'http://proxy.corp:3128'],
    ['http://alice@proxy.corp:3128', 'http://alice@proxy.corp:3128'],
    ['http://alice:Hunter2@proxy.corp:3128', 'http://alice:***@proxy.corp:3128'],
    ['https://alice:Hunter2@proxy.corp', 'https://alice:***@proxy.corp'],
    ['http://al%40ice:p%40ss%3Aword@10.1.2.3:8080', 'http://al%40ice:***@10.1.2.3:8080'],
    ['http://:onlypass@proxy.corp:3128', 'http://:***@proxy.corp:3128'],
    ['http://alice:Hunter2@[fd00::1]:3128', 'http://alice:***@[fd00::1]:3128'],
  ])('%s is shown as %s', (href, shown) => {
    expect(shownProxy(new URL(href))).toBe(shown);
  });

  it.each([
    ['Hunter2', 'http://alice:Hunter2@proxy.corp:3128'],
    ['p@ss:word', 'http://alice:p%40ss%3Aword@proxy.corp:3128'],
    ['***', 'http://alice:%2A%2A%2A@proxy.corp:3128'],
    ['s3cr3t/with?odd#chars', `http://alice:${encodeURIComponent('s3cr3t/with?odd#chars')}@proxy.corp:3128`],
  ])('never prints the password %j, in any encoding, and keeps user and host', (password, href) => {
    const shown = shownProxy(new URL(href));
    if (password !== '***') {
      expect(shown).not.toContain(password);
      expect(shown).not.toContain(encodeURIComponent(password));
    }
    expect(shown).toBe('http://alice:***@proxy.corp:3128');
  });

  it('leaves the URL it was given alone', () => {
    const proxy = new URL('http://alice:Hunter2@proxy.corp:3128');
    shownProxy(proxy);
    expect(proxy.password).toBe('Hunter2');
  });

  it('a proxy from a scheme-less variable is shown without its password', () => {
    const proxy = proxyFor(HTTPS, { HTTPS_PROXY: 'alice:Hunter2@proxy.corp:3128' })!;
    expect(shownProxy(proxy)).toBe('http://alice:***@proxy.corp:3128');
  });
});

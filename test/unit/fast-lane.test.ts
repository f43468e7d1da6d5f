// The print path's fast lane (cli.ts): `env`, `whoami` and `--version` lines in their
// plainest spelling run without commander, for start-up's sake. It must read each line it
// takes exactly as commander does, and leave every other line to commander.
import { describe, expect, it } from 'vitest';
import { fastLane } from '../../src/cli.js';
import { ExitCode } from '../../src/errors.js';
import { runProgram } from '../../src/program.js';
import { commandTestHooks, kash, paintedIO, scriptIO, seedProfile } from '../support/fakes.js';

const sandbox = commandTestHooks();

describe('fastLane: which lines it takes', () => {
  it.each([
    [['env']],
    [['whoami']],
    [['--profile', 'work', 'env', '--format', 'json']],
    [['env', '--json', '--prefix', 'MY_']],
    [['--no-color', '--no-input', 'whoami', '--all', '--verbose']],
    [['--config-dir', '/x', '--base-url', 'https://x.test', '--timeout', '5', 'env']],
    // A value is whatever follows, a command's name included, as commander takes it.
    [['--profile', 'env', 'whoami']],
  ])('takes %j', (args) => {
    expect(fastLane(args)).toBeTypeOf('object');
  });

  it('takes --version alone', () => {
    expect(fastLane(['--version'])).toBe('version');
  });

  it.each([
    [[]],
    [['login']],
    [['help', 'env']],
    [['env', '--help']],
    [['env', '-h']],
    [['--version', 'env']],
    [['env', '--format=json']],
    [['env', '--format']],
    [['env', '--format', '--json']],
    [['env', '--prefix', '-']],
    [['--format', 'json', 'env']],
    [['env', 'extra']],
    [['env', '--json', '--json']],
    [['env', '--all']],
    [['whoami', '--format', 'json']],
    [['env', '--']],
    [['env', '--colour']],
    [['env', '--color']],
    [['whoami', '--password', 'x']],
    [['__complete', 'env', '']],
  ])('leaves %j to commander', (args) => {
    expect(fastLane(args)).toBeUndefined();
  });
});

describe('fastLane: each line it takes runs as commander runs it', () => {
  // Run both ways on the same store, with the same variables: the same output, byte for byte.
  it.each([
    [['env']],
    [['env', '--format', 'json']],
    [['env', '--format', 'fish', '--prefix', 'SHOP_']],
    [['--json', 'env']],
    [['env', '--json', '--format', 'json']],
    [['env', '--json', '--format', 'sh']],
    [['env', '--format', 'yaml']],
    [['env', '--prefix', '1BAD']],
    [['whoami']],
    [['whoami', '--json']],
    [['whoami', '--all']],
    [['whoami', '--all', '--json']],
    [['--profile', 'work', 'whoami']],
    [['whoami', '--profile', 'nobody']],
    [['--profile', 'no/such', 'env']],
    [['env', '--profile', 'work', '--verbose']],
    [['--no-input', 'whoami', '--no-color']],
    [['--config-dir', '', 'env']],
    [['--timeout', 'abc', '--base-url', 'http://example.com', 'whoami']],
  ])('kash %j', async (args) => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default');
    await seedProfile(dir, 'work', { shopId: '77', apiKey: 'WORK-KEY-0123456789abcdef' });
    expect(fastLane(args)).toBeTypeOf('object');
    const fast = scriptIO();
    const slow = scriptIO();
    const fastStatus = await kash(args, fast, env);
    const slowStatus = await runProgram(['node', 'kash', ...args], slow, env);
    expect({ status: fastStatus, out: fast.out, err: fast.err }).toEqual({
      status: slowStatus,
      out: slow.out,
      err: slow.err,
    });
  });

  it('in color too, where stderr is painted', async () => {
    const { env } = sandbox();
    const fast = paintedIO();
    const slow = paintedIO();
    const colored = { ...env, FORCE_COLOR: '1' };
    const fastStatus = await kash(['whoami'], fast, colored);
    const slowStatus = await runProgram(['node', 'kash', 'whoami'], slow, colored);
    expect(fastStatus).toBe(ExitCode.notLoggedIn);
    expect(fast.err).toContain('<red>error:</red>');
    expect({ status: fastStatus, err: fast.err }).toEqual({ status: slowStatus, err: slow.err });
  });

  it('--version prints what commander prints', async () => {
    const fast = scriptIO();
    const slow = scriptIO();
    expect(await kash(['--version'], fast, {})).toBe(ExitCode.ok);
    expect(await runProgram(['node', 'kash', '--version'], slow, {})).toBe(ExitCode.ok);
    expect(fast.out).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?\n$/);
    expect(fast.out).toBe(slow.out);
  });
});

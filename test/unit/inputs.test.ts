// Every input is declared once (src/inputs.ts): its option's help, the gathering order
// (flag, variable, pipe, prompt, usage error) and "was it supplied?" come from that one
// declaration. CLI.md, "Commands" and "Prompting".
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KashError } from '../../src/errors.js';
import {
  ACCOUNT_ID,
  CODE,
  EMAIL_INPUT,
  gather,
  inputOption,
  LOGIN,
  optionalInput,
  PASSWORD,
  suppliedBy,
} from '../../src/inputs.js';
import {
  ask,
  commandTestHooks,
  contextFor,
  interactiveIO,
  kash,
  prompterOverrides,
  scriptedPrompter,
  scriptIO,
} from '../support/fakes.js';

const sandbox = commandTestHooks();

const usage = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(KashError);
  return error as KashError;
};

describe('the option comes from the declaration', () => {
  it.each([
    [LOGIN, '--login <login>', /\(env: KASH_LOGIN\)$/],
    [PASSWORD, '--password-stdin', /\(env: KASH_PASSWORD\)$/],
    [EMAIL_INPUT, '--email <email>', /\(env: KASH_EMAIL\)$/],
    [ACCOUNT_ID, '--account-id <id>', /\(env: KASH_ACCOUNT_ID\)$/],
    [CODE, '--otp <code>', /\(env: KASH_OTP\)$/],
  ])('%#: %s, its help ending with its variable', (input, flags, help) => {
    const option = inputOption(input);
    expect(option.flags).toBe(flags);
    expect(option.description).toMatch(help);
    expect(inputOption(input, 'said otherwise').description).toBe(`said otherwise (env: ${input.variable})`);
  });
});

describe('gathering: flag, then variable, then a prompt, else a usage error naming both', () => {
  const env = () => sandbox().env;

  it('the flag beats the variable', async () => {
    const ctx = await contextFor(scriptIO(), { ...env(), KASH_EMAIL: 'env@example.com' });
    expect(await gather(ctx, EMAIL_INPUT, { email: 'flag@example.com' })).toBe('flag@example.com');
    expect(suppliedBy(ctx, EMAIL_INPUT, { email: 'flag@example.com' })).toBe('flag');
  });

  it('the variable when there is no flag; an empty variable counts as unset', async () => {
    const set = await contextFor(scriptIO(), { ...env(), KASH_EMAIL: 'env@example.com' });
    expect(await gather(set, EMAIL_INPUT, {})).toBe('env@example.com');
    expect(suppliedBy(set, EMAIL_INPUT, {})).toBe('variable');
    const empty = await contextFor(scriptIO(), { ...env(), KASH_EMAIL: '' });
    expect(suppliedBy(empty, EMAIL_INPUT, {})).toBeUndefined();
    expect(await optionalInput(empty, ACCOUNT_ID, {})).toBeUndefined();
  });

  it('an empty flag is not "absent": it is said to be empty', async () => {
    const ctx = await contextFor(scriptIO(), env());
    expect((await usage(gather(ctx, LOGIN, { login: '' }))).message).toBe('the login is empty');
  });

  it('with nobody to ask: a usage error naming the flag and the variable', async () => {
    const ctx = await contextFor(scriptIO(), env());
    const error = await usage(gather(ctx, LOGIN, {}));
    expect(error.message).toBe('missing login: cannot prompt here (standard input is not a terminal)');
    expect(error.hint).toBe('Pass --login <login> or set KASH_LOGIN.');
  });

  it('at a terminal: the prompt, whose check says what is wrong and asks again', async () => {
    const prompter = scriptedPrompter([ask.text('Email', 'you@example.com')]);
    const ctx = await contextFor(interactiveIO(), env(), [], prompterOverrides(prompter));
    expect(await gather(ctx, EMAIL_INPUT, {})).toBe('you@example.com');
    // The scripted prompter runs the prompt's check as inquirer would: a bad email never gets through.
    const again = scriptedPrompter([ask.text('Email', 'not an email')]);
    const strict = await contextFor(interactiveIO(), env(), [], prompterOverrides(again));
    await expect(gather(strict, EMAIL_INPUT, {})).rejects.toThrow(/fails validation: invalid email/);
  });

  it.each([
    ['login', LOGIN, 'KASH_LOGIN', 'owner'],
    ['email', EMAIL_INPUT, 'KASH_EMAIL', 'you@example.com'],
  ])('a %s loses the blanks around it, from its flag, its variable or its prompt', async (flag, input, name, value) => {
    const padded = `  ${value} `;
    const ctx = await contextFor(scriptIO(), env());
    expect(await gather(ctx, input, { [flag]: padded })).toBe(value);
    const set = await contextFor(scriptIO(), { ...env(), [name]: padded });
    expect(await gather(set, input, {})).toBe(value);
    const prompter = scriptedPrompter([ask.text(input.prompt?.message ?? '', padded)]);
    const asked = await contextFor(interactiveIO(), env(), [], prompterOverrides(prompter));
    expect(await gather(asked, input, {})).toBe(value);
  });

  it('a code read from a pipe when nothing else gives it, normalised', async () => {
    const ctx = await contextFor(scriptIO({ stdin: '123 456\n' }), env());
    expect(await gather(ctx, CODE, {})).toBe('123456');
  });

  it('a flag that reads standard input refuses a terminal there', async () => {
    const ctx = await contextFor(interactiveIO(), env());
    const error = await usage(gather(ctx, PASSWORD, { passwordStdin: true }));
    expect(error.message).toMatch(/--password-stdin reads the password from a pipe, but standard input is a terminal/);
  });
});

describe('values that are not valid UTF-8 are refused, never sent mangled', () => {
  // Node decodes such bytes to U+FFFD; what kash would send is then not what was given.
  it.each([
    ['KASH_PASSWORD', ['login', '--login', 'owner@example.com'], { KASH_PASSWORD: 'caf\ufffd' }],
    ['KASH_LOGIN', ['login'], { KASH_LOGIN: '\ufffdowner', KASH_PASSWORD: 'pw' }],
    ['--login', ['login', '--login', 'own\ufffder'], { KASH_PASSWORD: 'pw' }],
    ['KASH_EMAIL', ['shops'], { KASH_EMAIL: 'a\ufffd@example.com' }],
    ['KASH_OTP', ['otp', 'consume', '--email', 'a@example.com'], { KASH_OTP: '12\ufffd34' }],
    ['--config-dir', ['whoami', '--config-dir', '/tmp/\ufffd'], {}],
    ['KASH_BASE_URL', ['shops', '--email', 'a@example.com'], { KASH_BASE_URL: 'https://k\ufffd.test' }],
    ['KASH_APIKEY', ['env'], { KASH_APIKEY: 'KEY-\ufffd', KASH_SHOPID: '1' }],
    ['KASH_SHOPID', ['whoami'], { KASH_APIKEY: 'KEY-1', KASH_SHOPID: '1\ufffd' }],
    ['HOME', ['whoami'], { KASH_CONFIG_DIR: '', XDG_CONFIG_HOME: '', HOME: '/tmp/caf\ufffd' }],
    ['XDG_CONFIG_HOME', ['env'], { KASH_CONFIG_DIR: '', XDG_CONFIG_HOME: '/tmp/caf\ufffd' }],
  ])('%s: a usage error naming it, nothing sent, nothing written', async (name, args, extra) => {
    const { dir, env } = sandbox();
    const io = scriptIO();
    expect(await kash(args, io, { ...env, ...extra })).toBe(2);
    expect(io.err).toMatch(new RegExp(`error: the [\\w ]+ given by ${name} is not valid UTF-8`));
    expect(readdirSync(dir)).toEqual([]);
  });
});

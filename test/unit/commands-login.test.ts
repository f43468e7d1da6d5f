import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import { ExitCode, KashError } from '../../src/errors.js';
import {
  ask,
  BASE_URL,
  commandTestHooks,
  ctrlC,
  errorLines,
  type FakeIO,
  fakeIO,
  interactiveIO,
  kash,
  prompterOverrides,
  scriptedPrompter,
  scriptIO,
  seedProfile,
  service,
  withoutSpinner,
} from '../support/fakes.js';

const sandbox = commandTestHooks();

const LOGIN = 'owner@example.com';
const PASSWORD = 'Pa55 w=rd&Sécret';
const EMAIL = 'shops@example.com';
const API_KEY = 'KEY-f3a9c1e07b5d42a8-SECRET';
const CREDENTIALS = { success: true, result: 'Here are your credentials', APIKEY: API_KEY, SHOPID: 42 };
const REFUSED = { success: false, result: 'Authentication error' };
const OTP_NOT_FOUND = { success: false, result: 'OTP not found' };
const CODE_SENT = { success: true, result: 'Email with OTP has been sent', consumeOTPlink: `${BASE_URL}/consume` };
const SHOPS = [
  {
    accountTitle: 'First Shop',
    getOPTForAccount: `${BASE_URL}/workers/getOTPForAccount.php?accountID=123&code=aaa111`,
    accountID: '123',
  },
  {
    accountTitle: 'Second Shop',
    getOPTForAccount: `${BASE_URL}/workers/getOTPForAccount.php?accountID=456&code=c0de42`,
    accountID: '456',
  },
];

const passwordLoginAnswers = (answer: object, password = PASSWORD) =>
  service().post(ENDPOINTS.password, { login: LOGIN, password }).reply(200, answer, { 'content-type': 'text/html' });

describe('kash login (password)', () => {
  it('asks the method, then login and password; stdout stays empty and stderr names the profile and the store', async () => {
    const { env, storeFile, readStore } = sandbox();
    const prompter = scriptedPrompter([
      ask.choose('How do you want to log in?', /password/),
      ask.text(/^Login/, LOGIN),
      ask.secret(/^Password/, PASSWORD),
    ]);
    passwordLoginAnswers(CREDENTIALS);
    const io = interactiveIO();

    const status = await kash(['login'], io, env, prompterOverrides(prompter));

    expect(io.err).not.toContain('error:');
    expect(status).toBe(0);
    expect(prompter.asked[0]?.choices).toEqual([
      'With my login and password',
      'With a one-time code sent to my email',
      'Paste an API key from Configuration → Webservices',
    ]);
    expect(io.out).toBe('');
    expect(withoutSpinner(io.err)).toContain(
      `Logged in to shop 42 as ${LOGIN}; saved as profile "default" in ${storeFile}`,
    );
    expect(io.err).not.toContain(API_KEY);
    expect(io.err).not.toContain(PASSWORD);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({
      apiKey: API_KEY,
      shopId: '42',
      login: LOGIN,
      email: null,
      method: 'password',
      baseUrl: BASE_URL,
    });
  });

  it('saves under the profile given with --profile', async () => {
    const { env, readStore } = sandbox();
    passwordLoginAnswers(CREDENTIALS);
    const io = scriptIO();

    const status = await kash(['login', '--profile', 'work', '--login', LOGIN], io, {
      ...env,
      KASH_PASSWORD: PASSWORD,
    });

    expect(status).toBe(0);
    expect(io.err).toContain('saved as profile "work"');
    expect(Object.keys(readStore()?.profiles ?? {})).toEqual(['work']);
  });

  it('--json puts exactly one JSON document, the whoami object without the key, on stdout', async () => {
    const { env } = sandbox();
    passwordLoginAnswers(CREDENTIALS);
    const io = scriptIO();

    const status = await kash(['login', '--json', '--login', LOGIN], io, { ...env, KASH_PASSWORD: PASSWORD });

    expect(status).toBe(0);
    expect(io.out.endsWith('}\n')).toBe(true);
    const result = JSON.parse(io.out) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(
      [
        'profile',
        'source',
        'storage',
        'isDefault',
        'shopId',
        'shopTitle',
        'login',
        'email',
        'method',
        'baseUrl',
        'obtainedAt',
        'apiKeyMasked',
      ].sort(),
    );
    expect(result).toMatchObject({
      profile: 'default',
      source: 'store',
      shopId: '42',
      shopTitle: null,
      login: LOGIN,
      email: null,
      method: 'password',
      baseUrl: BASE_URL,
      apiKeyMasked: 'KEY-…CRET',
    });
    expect(Number.isNaN(Date.parse(String(result.obtainedAt)))).toBe(false);
    expect(io.out).not.toContain(API_KEY);
    // The success line is still for the person, on stderr.
    expect(io.err).toContain('saved as profile "default"');
  });

  it('--no-save prints the credentials on stdout as `kash env` would, and saves nothing', async () => {
    const { env, storeBytes } = sandbox();
    passwordLoginAnswers(CREDENTIALS);
    const io = scriptIO();

    const status = await kash(['login', '--no-save', '--login', LOGIN, '--format', 'dotenv'], io, {
      ...env,
      KASH_PASSWORD: PASSWORD,
    });

    expect(status).toBe(0);
    expect(io.out).toBe(`KASH_APIKEY="${API_KEY}"\nKASH_SHOPID="42"\n`);
    expect(io.err).toContain('credentials printed, not saved');
    expect(storeBytes()).toBeUndefined();
  });

  describe('with prompting disabled, never prompts and names the flag and the variable (exit 2)', () => {
    const cases: Array<{ name: string; io: () => FakeIO; argv?: string[]; env?: NodeJS.ProcessEnv }> = [
      { name: 'stdin not a terminal', io: () => fakeIO({ stdinTTY: false, stderrTTY: true }) },
      { name: 'stderr not a terminal', io: () => fakeIO({ stdinTTY: true, stderrTTY: false }) },
      { name: '--no-input', io: () => interactiveIO(), argv: ['login', '--no-input'] },
      { name: '--no-input before the command', io: () => interactiveIO(), argv: ['--no-input', 'login'] },
      { name: 'CI=true', io: () => interactiveIO(), env: { CI: 'true' } },
      { name: 'KASH_NO_INPUT=1', io: () => interactiveIO(), env: { KASH_NO_INPUT: '1' } },
    ];
    for (const { name, io: makeIO, argv = ['login'], env: extra = {} } of cases) {
      it(name, async () => {
        const { env } = sandbox();
        const prompter = scriptedPrompter([]);
        const overrides = prompterOverrides(prompter);
        const io = makeIO();

        const status = await kash(argv, io, { ...env, ...extra }, overrides);

        expect(status).toBe(2);
        expect(overrides.requested).toBe(0);
        expect(prompter.asked).toEqual([]);
        expect(errorLines(io)).toHaveLength(1);
        expect(io.err).toContain('--login <login>');
        expect(io.err).toContain('KASH_LOGIN');
        expect(io.out).toBe('');
      });
    }

    it('with the login given, names --password-stdin and KASH_PASSWORD', async () => {
      const { env } = sandbox();
      const overrides = prompterOverrides(scriptedPrompter([]));
      const io = scriptIO();

      const status = await kash(['login', '--login', LOGIN], io, env, overrides);

      expect(status).toBe(2);
      expect(overrides.requested).toBe(0);
      expect(io.err).toContain('--password-stdin');
      expect(io.err).toContain('KASH_PASSWORD');
    });
  });

  describe('a login loses the blanks around it, as an email does; the password is sent as typed', () => {
    const PADDED_PASSWORD = ` ${PASSWORD} `;
    it.each([
      [
        'typed at the prompt',
        [],
        {},
        [
          ask.choose('How do you want to log in?', /password/),
          ask.text(/^Login/, `  ${LOGIN} `),
          ask.secret(/^Password/, PADDED_PASSWORD),
        ],
      ],
      ['given by --login', ['--login', ` ${LOGIN}  `], { KASH_PASSWORD: PADDED_PASSWORD }, []],
      ['given by KASH_LOGIN', [], { KASH_LOGIN: `  ${LOGIN} `, KASH_PASSWORD: PADDED_PASSWORD }, []],
    ])('%s', async (_where, args, extra, script) => {
      const { env, readStore } = sandbox();
      passwordLoginAnswers(CREDENTIALS, PADDED_PASSWORD);
      const prompter = scriptedPrompter(script);
      const io = script.length > 0 ? interactiveIO() : scriptIO();
      expect(await kash(['login', ...args], io, { ...env, ...extra }, prompterOverrides(prompter))).toBe(0);
      expect(readStore()?.profiles.default?.credentials?.login).toBe(LOGIN);
    });
  });

  it('--password-stdin reads one line from standard input, its line break stripped', async () => {
    const { env, readStore } = sandbox();
    passwordLoginAnswers(CREDENTIALS);
    const io = scriptIO({ stdin: `${PASSWORD}\r\nnot the password\n` });

    const status = await kash(
      ['login', '--login', LOGIN, '--password-stdin'],
      io,
      env,
      prompterOverrides(scriptedPrompter([])),
    );

    expect(io.err).not.toContain('error:');
    expect(status).toBe(0);
    expect(io.out).toBe('');
    expect(readStore()?.profiles.default?.credentials?.apiKey).toBe(API_KEY);
  });

  it('--password-stdin with a terminal on stdin is a usage error, not a silent wait', async () => {
    const { env, storeBytes } = sandbox();
    const overrides = prompterOverrides(scriptedPrompter([]));
    const io = interactiveIO({ stdin: `${PASSWORD}\n` });

    const status = await kash(['login', '--login', LOGIN, '--password-stdin'], io, env, overrides);

    expect(status).toBe(2);
    expect(io.stdinReads).toBe(0);
    expect(overrides.requested).toBe(0);
    expect(errorLines(io)).toEqual([expect.stringContaining('--password-stdin')]);
    expect(io.err).toContain('terminal');
    expect(storeBytes()).toBeUndefined();
  });

  it('a wrong password is exit 3 with the service text, and saves nothing', async () => {
    const { env, storeBytes } = sandbox();
    passwordLoginAnswers(REFUSED);
    const io = scriptIO();

    const status = await kash(
      ['login', '--login', LOGIN],
      io,
      { ...env, KASH_PASSWORD: PASSWORD },
      prompterOverrides(scriptedPrompter([])),
    );

    expect(status).toBe(3);
    expect(errorLines(io)).toEqual([expect.stringContaining('Authentication error')]);
    expect(io.err).not.toContain(PASSWORD);
    expect(io.out).toBe('');
    expect(storeBytes()).toBeUndefined();
  });

  // The prompter throws what @inquirer/prompts throws on Ctrl-C. These fail while the
  // ExitPromptError → exit 130 translation lives only inside inquirerPrompter (src/prompt.ts),
  // which an Overrides.prompter replaces: the error then reaches cli.ts as an unexpected one (exit 1).
  describe('Ctrl-C at a prompt is exit 130 and leaves the store exactly as it was', () => {
    const scripts = {
      'at the method prompt': () => [ask.choose('How do you want to log in?', ctrlC())],
      'at the password prompt': () => [
        ask.choose('How do you want to log in?', /password/),
        ask.text(/^Login/, LOGIN),
        ask.secret(/^Password/, ctrlC()),
      ],
    };
    for (const [where, script] of Object.entries(scripts)) {
      it(where, async () => {
        const { dir, env, storeBytes } = sandbox();
        await seedProfile(dir, 'default', { apiKey: 'KEY-old0000000000000-OLD', login: 'previous@example.com' });
        const before = storeBytes();
        const prompter = scriptedPrompter(script());
        const io = interactiveIO();

        const status = await kash(['login'], io, env, prompterOverrides(prompter));

        expect(status).toBe(130);
        expect(errorLines(io)).toEqual([expect.stringContaining('cancelled')]);
        expect(io.err).not.toContain('unexpected internal error');
        expect(storeBytes()).toBe(before);
      });
    }

    it('when the prompter reports the cancellation as inquirerPrompter does (KashError 130)', async () => {
      const { dir, env, storeBytes } = sandbox();
      await seedProfile(dir, 'default');
      const before = storeBytes();
      const cancelled = new KashError(ExitCode.cancelled, 'cancelled; nothing was changed');
      const prompter = scriptedPrompter([
        ask.choose('How do you want to log in?', /password/),
        ask.text(/^Login/, LOGIN),
        ask.secret(/^Password/, cancelled),
      ]);
      const io = interactiveIO();

      const status = await kash(['login'], io, env, prompterOverrides(prompter));

      expect(status).toBe(130);
      expect(errorLines(io)).toEqual(['error: cancelled; nothing was changed']);
      expect(storeBytes()).toBe(before);
    });
  });
});

describe('kash login --otp (interactive)', () => {
  /** listShops → two shops; the code requested through the picked shop's own link. */
  function shopsAndCodeSent() {
    service().post(ENDPOINTS.shops, { email: EMAIL }).reply(200, SHOPS);
    service()
      .post(ENDPOINTS.requestCode, { email: EMAIL })
      .query({ accountID: '456', code: 'c0de42' })
      .reply(200, CODE_SENT);
  }
  const codeAnswers = (otp: string, answer: object) =>
    service().post(ENDPOINTS.code, { email: EMAIL, otp }).reply(200, answer);

  it('lets the person pick one of two shops, then allows exactly three tries at the code (exit 3)', async () => {
    const { env, readStore } = sandbox();
    shopsAndCodeSent();
    codeAnswers('111111', OTP_NOT_FOUND);
    codeAnswers('222222', OTP_NOT_FOUND);
    codeAnswers('333333', OTP_NOT_FOUND);
    const prompter = scriptedPrompter([
      ask.text(/^Email/, EMAIL),
      ask.choose('Which shop?', /Second Shop/),
      ask.text(`Code from the email sent to ${EMAIL}:`, '111 111'),
      ask.text(`Code from the email sent to ${EMAIL}:`, '222-222'),
      ask.text(`Code from the email sent to ${EMAIL}:`, '333333'),
    ]);
    const io = interactiveIO();

    const status = await kash(['login', '--otp'], io, env, prompterOverrides(prompter));

    expect(status).toBe(3);
    expect(prompter.asked.filter((prompt) => prompt.message.startsWith('Code'))).toHaveLength(3);
    expect(prompter.asked[1]?.choices).toEqual(['First Shop  [123]', 'Second Shop  [456]']);
    const err = withoutSpinner(io.err);
    expect(err).toContain('Sent a one-time code for Second Shop to shops@example.com');
    expect(err).toContain('warning: the service refused: OTP not found; 2 tries left');
    expect(err).toContain('warning: the service refused: OTP not found; 1 try left');
    expect(errorLines(io)).toEqual([expect.stringContaining('OTP not found')]);
    expect(io.out).toBe('');
    expect(readStore()?.profiles.default?.credentials).toBeUndefined();
  });

  it('on a right code, saves method otp with the shop title and clears the pending request', async () => {
    const { env, storeFile, readStore } = sandbox();
    shopsAndCodeSent();
    codeAnswers('111111', OTP_NOT_FOUND);
    codeAnswers('654321', CREDENTIALS);
    const prompter = scriptedPrompter([
      ask.text(/^Email/, EMAIL),
      ask.choose('Which shop?', /Second Shop/),
      ask.text(/^Code/, '111111'),
      ask.text(/^Code/, '654321'),
    ]);
    const io = interactiveIO();

    const status = await kash(['login', '--otp'], io, env, prompterOverrides(prompter));

    expect(io.err).not.toContain('error:');
    expect(status).toBe(0);
    expect(io.out).toBe('');
    expect(withoutSpinner(io.err)).toContain(
      `Logged in to shop 42 (Second Shop) as ${EMAIL}; saved as profile "default" in ${storeFile}`,
    );
    const profile = readStore()?.profiles.default;
    expect(profile?.credentials).toMatchObject({
      apiKey: API_KEY,
      shopId: '42',
      method: 'otp',
      email: EMAIL,
      login: null,
      shopTitle: 'Second Shop',
    });
    expect(profile?.pendingCode).toBeUndefined();
  });

  it('the method prompt leads to the code flow too', async () => {
    const { env, readStore } = sandbox();
    service().post(ENDPOINTS.shops, { email: EMAIL }).reply(200, [SHOPS[0]]);
    service()
      .post(ENDPOINTS.requestCode, { email: EMAIL })
      .query({ accountID: '123', code: 'aaa111' })
      .reply(200, CODE_SENT);
    codeAnswers('654321', CREDENTIALS);
    const prompter = scriptedPrompter([
      ask.choose('How do you want to log in?', /one-time code/),
      ask.text(/^Email/, EMAIL),
      // One shop: nothing to choose.
      ask.text(/^Code/, '654321'),
    ]);

    const status = await kash(['login'], interactiveIO(), env, prompterOverrides(prompter));

    expect(status).toBe(0);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ method: 'otp', shopTitle: 'First Shop' });
  });
});

import { describe, expect, it } from 'vitest';
import { codeSentFrom, credentialsFrom, parseAnswer, serverMessage, shopsFrom } from '../../src/api/answers.js';
import { ExitCode, KashError } from '../../src/errors.js';

const KEY = 'KEY-0123456789abcdef-SECRET';
const HINT = 'the refusal hint';

function thrown(call: () => unknown): KashError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(KashError);
    return error as KashError;
  }
  throw new Error('expected a KashError, but the call returned');
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('parseAnswer', () => {
  const object = { success: true, APIKEY: 'k', SHOPID: '1' };
  const json = JSON.stringify(object);

  it.each([
    ['plain JSON', json],
    ['a UTF-8 BOM', `\uFEFF${json}`],
    ['leading spaces and newlines', `  \r\n\n${json}`],
    ['trailing whitespace', `${json}\n \t`],
    ['a BOM then whitespace', `\uFEFF \n${json}\n`],
    ['whitespace then a BOM', ` \n\uFEFF${json}`],
    ['pretty-printed JSON', JSON.stringify(object, null, 2)],
  ])('reads %s', (_label, text) => {
    expect(parseAnswer(text)).toEqual(object);
  });

  it('reads an array', () => {
    expect(parseAnswer('\uFEFF[]')).toEqual([]);
  });

  // JSON.parse would make 12345678901234567890 into 12345678901234567000.
  it('keeps every digit of an integer SHOPID or accountID, as the service wrote it', () => {
    const big = '12345678901234567890';
    expect(parseAnswer(`{"success":true,"APIKEY":"k","SHOPID":${big}}`)).toEqual({
      success: true,
      APIKEY: 'k',
      SHOPID: big,
    });
    expect(parseAnswer(`[{"accountID" : ${big} },{"accountID":7}]`)).toEqual([{ accountID: big }, { accountID: '7' }]);
    expect(credentialsFrom(parseAnswer(`{"success":true,"APIKEY":"k","SHOPID":${big}}`), HINT).shopId).toBe(big);
  });

  it.each(['1.5e3', '42.0', '42E0', '-1.5'])(
    'a SHOPID of %s is no ID (exit 4), not the number it would parse to',
    (literal) => {
      const error = thrown(() =>
        credentialsFrom(parseAnswer(`{"success":true,"APIKEY":"k","SHOPID":${literal}}`), HINT),
      );
      expect(error.exitCode).toBe(ExitCode.service);
      // Not inside a string, and not other keys.
      expect(parseAnswer('{"result":"\\"SHOPID\\":1 ","n":12345678901234567890}')).toEqual({
        result: '"SHOPID":1 ',
        n: 12345678901234567000,
      });
    },
  );

  it.each([
    ['an empty body', '', /empty/],
    ['only whitespace', ' \r\n\t ', /empty/],
    ['only a BOM', '\uFEFF', /empty/],
    ['an HTML page', '<!DOCTYPE html><html><body>Error</body></html>', /HTML/],
    ['an HTML page after whitespace', '\n\n  <html><head></head></html>', /HTML/],
    ['a PHP warning before the JSON', `<br />\n<b>Warning</b>: something in x.php\n${json}`, /HTML/],
    ['plain text', 'Service Unavailable', /not JSON/],
    ['truncated JSON', json.slice(0, 12), /not JSON/],
    ['two JSON documents', `${json}${json}`, /not JSON/],
  ])('refuses %s as a server fault (exit 4)', (_label, text, says) => {
    const error = thrown(() => parseAnswer(text));
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(says);
    expect(error.hint).toBeTruthy();
  });
});

describe('credentialsFrom: success', () => {
  it.each([
    ['the documented answer', { success: true, result: 'Here are your credentials', APIKEY: KEY, SHOPID: '42' }],
    ['SHOPID as a number', { success: true, APIKEY: KEY, SHOPID: 42 }],
    ['success "true"', { success: 'true', APIKEY: KEY, SHOPID: '42' }],
    ['success 1', { success: 1, APIKEY: KEY, SHOPID: '42' }],
    ['success "1"', { success: '1', APIKEY: KEY, SHOPID: 42 }],
    ['the older {"result":"OK"} shape', { result: 'OK', APIKEY: KEY, SHOPID: '42' }],
    ['the older shape with a numeric SHOPID', { result: 'OK', APIKEY: KEY, SHOPID: 42 }],
    ['extra fields', { success: true, APIKEY: KEY, SHOPID: '42', extra: { nested: [1, 2] } }],
  ])('accepts %s', (_label, answer) => {
    expect(credentialsFrom(answer, HINT)).toEqual({ apiKey: KEY, shopId: '42' });
  });

  it('keeps a SHOPID string exactly', () => {
    expect(credentialsFrom({ success: true, APIKEY: KEY, SHOPID: '007' }, HINT)).toEqual({
      apiKey: KEY,
      shopId: '007',
    });
  });

  it('returns a numeric SHOPID as a string', () => {
    expect(typeof credentialsFrom({ success: true, APIKEY: KEY, SHOPID: 12345 }, HINT).shopId).toBe('string');
  });
});

describe('credentialsFrom: refusals (exit 3)', () => {
  it.each([
    ['success false', { success: false, result: 'Authentication error' }, 'Authentication error'],
    ['success "false"', { success: 'false', result: 'Authentication error' }, 'Authentication error'],
    ['success 0', { success: 0, result: 'OTP not found' }, 'OTP not found'],
    ['success "0"', { success: '0', result: 'OTP not found' }, 'OTP not found'],
  ])('%s carries the server words and the hint', (_label, answer, words) => {
    const error = thrown(() => credentialsFrom(answer, HINT));
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(words);
    expect(error.hint).toBe(HINT);
  });

  it.each([
    ['no result', { success: false }],
    ['an empty result', { success: false, result: '' }],
    ['a result of only escapes', { success: false, result: '\u001b[31m\u001b[0m' }],
    ['a non-string result', { success: false, result: { code: 7 } }],
  ])('a refusal with %s is still exit 3 with a readable message', (_label, answer) => {
    const error = thrown(() => credentialsFrom(answer, HINT));
    expect(error.exitCode).toBe(3);
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message).not.toContain('[object Object]');
  });

  it.each([
    ['ANSI colours', '\u001b[1;31mAuthentication error\u001b[0m', 'Authentication error'],
    ['a title-setting OSC', '\u001b]0;owned\u0007Authentication error', 'Authentication error'],
    ['a screen clear', '\u001b[2J\u001b[HOTP not found', 'OTP not found'],
    ['8-bit CSI', '\u009b31mOTP not found', 'OTP not found'],
    ['line breaks', 'Authentication\r\nerror\n', 'Authentication error'],
    ['a bell and NUL', 'Authentication\u0007 error\u0000', 'Authentication error'],
    ['a bidi override', 'Authentication \u202eerror', 'Authentication error'],
  ])('strips %s from the server words', (_label, result, shown) => {
    const error = thrown(() => credentialsFrom({ success: false, result }, HINT));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(shown);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message).not.toMatch(/\[\d*(;\d+)*[mJH]/);
    expect(error.message).not.toContain('owned');
    expect(error.message).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('keeps a very long server text to one bounded line', () => {
    const error = thrown(() => credentialsFrom({ success: false, result: 'x'.repeat(10_000) }, HINT));
    expect(error.exitCode).toBe(3);
    expect(error.message.length).toBeLessThan(1_000);
  });
});

describe('credentialsFrom: server faults (exit 4)', () => {
  it.each<[string, unknown]>([
    ['success without APIKEY', { success: true, result: 'Here are your credentials', SHOPID: '42' }],
    ['success with an empty APIKEY', { success: true, APIKEY: '', SHOPID: '42' }],
    ['success with a blank APIKEY', { success: true, APIKEY: '  \t', SHOPID: '42' }],
    ['success with a null APIKEY', { success: true, APIKEY: null, SHOPID: '42' }],
    ['success with an object APIKEY', { success: true, APIKEY: { k: 1 }, SHOPID: '42' }],
    ['success with a boolean APIKEY', { success: true, APIKEY: true, SHOPID: '42' }],
    ['success without SHOPID', { success: true, APIKEY: KEY }],
    ['success with an empty SHOPID', { success: true, APIKEY: KEY, SHOPID: '' }],
    ['success with a null SHOPID', { success: true, APIKEY: KEY, SHOPID: null }],
    ['success with an array SHOPID', { success: true, APIKEY: KEY, SHOPID: [42] }],
    ['the older shape without APIKEY', { result: 'OK', SHOPID: '42' }],
    ['the older shape without SHOPID', { result: 'OK', APIKEY: KEY }],
    ['APIKEY with \\n', { success: true, APIKEY: `${KEY}\n`, SHOPID: '42' }],
    ['APIKEY with \\r', { success: true, APIKEY: `${KEY}\rmore`, SHOPID: '42' }],
    ['APIKEY with \\t', { success: true, APIKEY: `${KEY}\tmore`, SHOPID: '42' }],
    ['APIKEY with NUL', { success: true, APIKEY: `${KEY}\u0000`, SHOPID: '42' }],
    ['APIKEY with ESC', { success: true, APIKEY: `\u001b[31m${KEY}`, SHOPID: '42' }],
    ['APIKEY with DEL', { success: true, APIKEY: `${KEY}\u007f`, SHOPID: '42' }],
    ['APIKEY with NEL (U+0085)', { success: true, APIKEY: `${KEY}\u0085`, SHOPID: '42' }],
    ['APIKEY with U+2028', { success: true, APIKEY: `${KEY}\u2028`, SHOPID: '42' }],
    ['SHOPID with \\n', { success: true, APIKEY: KEY, SHOPID: '42\nexport EVIL=1' }],
    ['SHOPID with \\r\\n', { success: true, APIKEY: KEY, SHOPID: '42\r\n' }],
    ['SHOPID with BEL', { success: true, APIKEY: KEY, SHOPID: '42\u0007' }],
    ['SHOPID with U+2029', { success: true, APIKEY: KEY, SHOPID: '42\u2029' }],
    ['SHOPID with U+202E (right-to-left override)', { success: true, APIKEY: KEY, SHOPID: '42\u202e1' }],
    ['APIKEY with U+200B (zero-width space)', { success: true, APIKEY: `${KEY}\u200b`, SHOPID: '42' }],
    ['APIKEY with U+FEFF inside', { success: true, APIKEY: `KEY\ufeff${KEY}`, SHOPID: '42' }],
    ['SHOPID as a fraction', { success: true, APIKEY: KEY, SHOPID: 4.2 }],
    ['SHOPID beyond exact floats, reached as a number', { success: true, APIKEY: KEY, SHOPID: 2 ** 60 }],
    ['no success field and no OK result', { result: 'Here are your credentials', APIKEY: KEY, SHOPID: '42' }],
    ['an unknown success value', { success: 'yes', APIKEY: KEY, SHOPID: '42' }],
    ['a JSON array', [{ success: true, APIKEY: KEY, SHOPID: '42' }]],
    ['an empty array', []],
    ['null', null],
    ['a string', 'OK'],
    ['a number', 1],
    ['true', true],
    ['an empty object', {}],
  ])('%s', (_label, answer) => {
    const error = thrown(() => credentialsFrom(answer, HINT));
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.exitCode).toBe(4);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain(KEY);
    expect(error.message).not.toMatch(CONTROL);
  });
});

describe('codeSentFrom', () => {
  it.each<[string, unknown]>([
    [
      'the documented answer',
      { success: true, result: 'Email with OTP has been sent', consumeOTPlink: 'https://kash.click/x' },
    ],
    ['success "true"', { success: 'true', result: 'Email with OTP has been sent' }],
    ['success 1', { success: 1 }],
    ['the older shape', { result: 'OK' }],
  ])('accepts %s', (_label, answer) => {
    expect(() => codeSentFrom(answer)).not.toThrow();
  });

  it('a refusal is exit 3 with the server words', () => {
    const error = thrown(() => codeSentFrom({ success: false, result: 'Error sending email' }));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('Error sending email');
    expect(error.hint).toBeTruthy();
  });

  it('a refusal without words is exit 3 all the same', () => {
    const error = thrown(() => codeSentFrom({ success: 'false' }));
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/not sent|refused/);
  });

  it('strips escapes from the refusal', () => {
    const error = thrown(() => codeSentFrom({ success: false, result: '\u001b[5mError\u001b[0m sending\nemail' }));
    expect(error.message).toContain('Error sending email');
    expect(error.message).not.toMatch(CONTROL);
  });

  it.each<[string, unknown]>([
    ['an array', []],
    ['null', null],
    ['no success field', { result: 'Email with OTP has been sent' }],
    ['a string', 'sent'],
  ])('%s is exit 4', (_label, answer) => {
    expect(thrown(() => codeSentFrom(answer)).exitCode).toBe(4);
  });
});

describe('shopsFrom', () => {
  const email = 'owner@example.com';
  const link = 'https://kash.click/workers/getOTPForAccount.php?accountID=123&code=a25d5e4';

  it('reads the documented list', () => {
    expect(
      shopsFrom(
        [
          { accountTitle: 'My Shop', getOPTForAccount: link, accountID: '123' },
          {
            accountTitle: 'Second',
            getOPTForAccount: 'https://kash.click/workers/getOTPForAccount.php?accountID=9&code=b',
            accountID: '9',
          },
        ],
        email,
      ),
    ).toEqual([
      { accountId: '123', title: 'My Shop', otpLink: link },
      {
        accountId: '9',
        title: 'Second',
        otpLink: 'https://kash.click/workers/getOTPForAccount.php?accountID=9&code=b',
      },
    ]);
  });

  it.each<[string, Record<string, unknown>, { accountId: string; title: string; otpLink: string | null }]>([
    [
      'a numeric accountID',
      { accountID: 123, accountTitle: 'A', getOPTForAccount: link },
      { accountId: '123', title: 'A', otpLink: link },
    ],
    ['no link', { accountID: '5', accountTitle: 'B' }, { accountId: '5', title: 'B', otpLink: null }],
    [
      'a null link',
      { accountID: '5', accountTitle: 'B', getOPTForAccount: null },
      { accountId: '5', title: 'B', otpLink: null },
    ],
    [
      'a non-string link',
      { accountID: '5', accountTitle: 'B', getOPTForAccount: 17 },
      { accountId: '5', title: 'B', otpLink: null },
    ],
    ['no title', { accountID: '5' }, { accountId: '5', title: '', otpLink: null }],
    [
      'a title with escapes and a line break',
      { accountID: '5', accountTitle: '\u001b[31mMy\nShop\u001b[0m\u0007' },
      { accountId: '5', title: 'My Shop', otpLink: null },
    ],
  ])('reads an entry with %s', (_label, entry, shop) => {
    expect(shopsFrom([entry], email)).toEqual([shop]);
  });

  it('an empty list is exit 3 naming the email', () => {
    const error = thrown(() => shopsFrom([], email));
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(email);
    expect(error.hint).toBeTruthy();
  });

  it.each<[string, unknown]>([
    ['an object instead of an array', { success: false, result: 'No shop' }],
    ['null', null],
    ['a string', '[]'],
    ['an entry that is not an object', ['123']],
    ['an entry that is null', [null]],
    ['an entry that is an array', [['123', 'My Shop']]],
    ['an entry without accountID', [{ accountTitle: 'My Shop', getOPTForAccount: link }]],
    ['an entry with an empty accountID', [{ accountID: '', accountTitle: 'My Shop' }]],
    ['an entry with an accountID holding a line break', [{ accountID: '12\n3', accountTitle: 'My Shop' }]],
    ['a good entry then a bad one', [{ accountID: '1', accountTitle: 'A' }, { accountTitle: 'B' }]],
  ])('%s is exit 4', (_label, answer) => {
    expect(thrown(() => shopsFrom(answer, email)).exitCode).toBe(4);
  });
});

describe('serverMessage', () => {
  it.each<[string, unknown, string | undefined]>([
    ['a plain result', { success: false, result: 'Authentication error' }, 'Authentication error'],
    ['a result with escapes', { result: '\u001b[31mred\u001b[0m' }, 'red'],
    ['a result of only controls', { result: '\u0007\u0000' }, undefined],
    ['no result', { success: false }, undefined],
    ['a numeric result', { result: 42 }, undefined],
    ['null', null, undefined],
    ['a string answer', 'Authentication error', undefined],
  ])('%s', (_label, answer, expected) => {
    expect(serverMessage(answer)).toBe(expected);
  });
});

import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { gather, readLine } from '../inputs.js';
import type { Obtained } from './deliver.js';

export interface PasswordInputs {
  login?: string | undefined;
  passwordStdin: boolean;
}

/** Login and password: from flags, variables, a pipe or prompts; the password never from argv. */
export async function passwordLogin(ctx: Context, inputs: PasswordInputs): Promise<Obtained> {
  if (inputs.passwordStdin && ctx.io.stdinIsTTY) {
    throw usageError(
      '--password-stdin reads the password from a pipe, but standard input is a terminal',
      'Pipe it in, e.g. printf \'%s\\n\' "$PASSWORD" | kash login --login you --password-stdin, or drop the flag to be asked.',
    );
  }
  const login = await gather(ctx, {
    label: 'login',
    flag: '--login <login>',
    variable: 'KASH_LOGIN',
    given: inputs.login,
    ask: (prompter) => prompter.text('Login (email or user name):'),
  });
  const password = inputs.passwordStdin
    ? await readLine(
        ctx.io.stdin,
        'password',
        'With --password-stdin, pipe the password as one line on standard input.',
      )
    : await gather(ctx, {
        label: 'password',
        flag: '--password-stdin',
        variable: 'KASH_PASSWORD',
        given: undefined,
        ask: (prompter) => prompter.secret('Password:'),
      });
  const client = await ctx.client();
  const credentials = await ctx.ui.spin('Logging in…', () => client.loginWithPassword(login, password));
  return { credentials, method: 'password', login, email: null, shopTitle: null };
}

import type { Context } from '../context.js';
import { type Given, gather, LOGIN, PASSWORD, refuseTerminalStdin } from '../inputs.js';
import type { Obtained } from './obtained.js';

/**
 * Login and password: from flags, variables, a pipe or prompts; the password never from
 * argv. `beforeSending` runs once everything is gathered (a login proves it can save).
 */
export async function passwordLogin(ctx: Context, given: Given, beforeSending: () => Promise<void>): Promise<Obtained> {
  refuseTerminalStdin(ctx, given, PASSWORD);
  const login = await gather(ctx, LOGIN, given);
  const password = await gather(ctx, PASSWORD, given);
  await beforeSending();
  const client = await ctx.client();
  const credentials = await ctx.ui.spin('Logging in…', () => client.loginWithPassword(login, password));
  return { credentials, method: 'password', login, email: null, shopTitle: null };
}

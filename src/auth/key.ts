import type { Context } from '../context.js';
import { API_KEY, type Given, gather, refuseTerminalStdin, SHOP_ID } from '../inputs.js';
import type { Obtained } from './obtained.js';

/**
 * The third way: a key copied from the back office (Configuration → Webservices), with its
 * shop ID. Nothing is sent to the service; the pair is checked as its answers are.
 */
export async function keyLogin(ctx: Context, given: Given, beforeSaving: () => Promise<void>): Promise<Obtained> {
  refuseTerminalStdin(ctx, given, API_KEY);
  const shopId = await gather(ctx, SHOP_ID, given);
  const apiKey = await gather(ctx, API_KEY, given);
  ctx.secrets.add(apiKey);
  await beforeSaving();
  return { credentials: { apiKey, shopId }, method: 'key', login: null, email: null, shopTitle: null };
}

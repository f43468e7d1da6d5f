import type { Command } from 'commander';
import type { Context } from '../context.js';
import { EMAIL_INPUT, type Given, gather, inputOption, validInput } from '../inputs.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';
import type { CommandEntry } from './spec.js';

export interface ShopsOptions extends Given {
  email?: string | undefined;
  title?: string | undefined;
}

export const shopsCommand: CommandEntry = {
  name: 'shops',
  helpGroup: 'Log in and out:',
  description: 'list the shops linked to an email, with their account IDs',
  define: (command, context) =>
    command
      .addOption(inputOption(EMAIL_INPUT))
      .option('--title <accountTitle>', 'only shops with this title')
      .action(async (options: ShopsOptions, command: Command) => runShops(await context(command), options))
      .addHelpText(
        'after',
        examples(
          ['kash shops --email you@example.com', 'the shops you can log in to, with their IDs'],
          ['kash shops --email you@example.com --json', 'in a script'],
        ),
      ),
};

export async function runShops(ctx: Context, options: ShopsOptions): Promise<void> {
  const email = await gather(ctx, EMAIL_INPUT, options);
  const title = options.title === undefined ? undefined : validInput('title', options.title);
  const client = await ctx.client();
  const shops = await ctx.ui.spin('Looking up your shops…', () => client.listShops(email, title));
  if (ctx.settings.json) {
    writeJson(
      ctx.io,
      shops.map((shop) => ({ accountId: shop.accountId, title: shop.title })),
    );
    return;
  }
  const width = Math.max(...shops.map((shop) => shop.accountId.length), 'ID'.length);
  const rows = [
    `${'ID'.padEnd(width)}  Title`,
    ...shops.map((shop) => `${shop.accountId.padEnd(width)}  ${shop.title}`),
  ];
  // The list is the command's result: stdout, so that `kash shops … | grep` works.
  ctx.io.stdout.write(`${rows.join('\n')}\n`);
  ctx.ui.hint(`Log in to one with: kash login --otp --email ${email} --account-id <ID>`);
}

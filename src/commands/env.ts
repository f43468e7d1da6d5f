import type { Context } from '../context.js';
import { effectiveCredentials } from '../credentials.js';
import { usageError } from '../errors.js';
import { ENV_FORMATS, formatEnv, parseEnvFormat, parsePrefix } from '../output/env-format.js';
import type { CommandSpec } from './spec.js';

export interface EnvOptions {
  format: string;
  prefix: string;
}

export const envCommand: CommandSpec<EnvOptions> = {
  name: 'env',
  helpGroup: 'Use the credentials:',
  description: 'print the credentials as shell variables, for eval "$(kash env)"',
  options: [
    { flags: '--format <format>', description: `one of ${ENV_FORMATS.join(', ')}`, default: 'sh' },
    { flags: '--prefix <prefix>', description: 'variable name prefix', default: 'KASH_' },
  ],
  examples: [
    ['eval "$(kash env)"', 'bash, zsh, dash: export KASH_APIKEY and KASH_SHOPID'],
    ['kash env --format fish | source', 'fish'],
    ['kash env --format powershell | Invoke-Expression', 'PowerShell'],
    ['kash env --format dotenv > .env', 'a .env file for your app'],
  ],
  run: (ctx, options, typed) => runEnv(ctx, options, typed.has('format')),
};

export async function runEnv(ctx: Context, options: EnvOptions, formatGiven = true): Promise<void> {
  // --json asks for the machine-readable result: here, the json format.
  const format = parseEnvFormat(options.format);
  if (ctx.settings.json && formatGiven && format !== 'json') {
    throw usageError(`--json and --format ${format} disagree`, 'Use one of them: --json is --format json.');
  }
  const prefix = parsePrefix(options.prefix);
  const { apiKey, shopId } = await effectiveCredentials(ctx);
  ctx.io.stdout.write(
    formatEnv(ctx.settings.json ? 'json' : format, [
      [`${prefix}APIKEY`, apiKey],
      [`${prefix}SHOPID`, shopId],
    ]),
  );
}

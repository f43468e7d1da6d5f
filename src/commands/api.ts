import { Argument, type Command, Option } from 'commander';
import { parseBaseUrl } from '../api/base-url.js';
import { type BodyTarget, callApi } from '../api/call.js';
import { completeFrom } from '../completion/complete.js';
import { type Context, VERSION } from '../context.js';
import { effectiveCredentials } from '../credentials.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { binaryReason, prettyJson } from '../output/body.js';
import { examples } from '../output/examples.js';
import { hasControlOrFormatChars, quote } from '../sanitize.js';
import { refuseMangled } from '../settings.js';
import type { CommandEntry } from './spec.js';

/** What the service's pages document; `kash api <TAB>` offers them. */
export const DOCUMENTED_ENDPOINTS = [
  ...[
    'getPlus',
    'getDepartments',
    'getDepartmentGroups',
    'getClients',
    'getDeclinaisons',
    'getLivraisons',
    'getPaymentModes',
    'getCashbox',
    'getDeliveryZones',
    'getRelayDeposit',
    'getDiscounts',
    'getUsers',
    'getTables',
    'getPending',
  ].map((value) => ({ value, description: 'read (format=json|csv|html)' })),
  { value: 'getSales', description: 'sales of a day, month or year (d, m, y, formatExport)' },
  { value: 'getOrders', description: 'orders between two dates (from_date_ISO8601, to_date_ISO8601)' },
  { value: 'webapp', description: 'record a sale (POST)' },
  { value: 'editOrder', description: 'change an order (POST)' },
  ...['add', 'edit', 'del'].flatMap((verb) =>
    ['Client', 'Plu', 'Dept', 'GrpDept', 'Variation', 'Vat'].map((thing) => ({
      value: `${verb}${thing}`,
      description: `${verb} (POST)`,
    })),
  ),
];

/** kash adds these itself, from the credentials in effect. */
const CREDENTIAL_FIELDS = ['key', 'shopID', 'idboutique'];
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface ApiOptions {
  field: string[];
  method?: string | undefined;
  output?: string | undefined;
}

export const apiCommand: CommandEntry = {
  name: 'api',
  helpGroup: 'Use the credentials:',
  description: 'call the kash.click API with the credentials in effect; the answer goes to stdout as it is',
  define: (command, context) =>
    command
      .addArgument(
        completeFrom(
          new Argument(
            '<endpoint>',
            'a name (getPaymentModes), a path (/workers/getSales.php), or a URL on the service',
          ),
          DOCUMENTED_ENDPOINTS,
        ),
      )
      .addOption(
        new Option('-f, --field <name=value>', 'a field to send; repeatable, and name[]=value repeats in order')
          .argParser((value: string, previous: string[]) => [...previous, value])
          .default([]),
      )
      .addOption(
        completeFrom(
          new Option('-X, --method <method>', 'GET (fields in the query, the default) or POST (a form body)'),
          ['GET', 'POST'],
        ),
      )
      .addOption(
        completeFrom(
          new Option('--output <file>', 'write the body to this file, atomically, instead of stdout'),
          'files',
        ),
      )
      .action(async (endpoint: string, options: ApiOptions, command: Command) =>
        runApi(await context(command), endpoint, options),
      )
      .addHelpText(
        'after',
        examples(
          ['kash api getPaymentModes -f format=json', 'the payment modes: the cheapest way to see that a key works'],
          [
            'kash api getSales -f d="$(date -d yesterday +%d)" -f m="$(date -d yesterday +%m)" -f y="$(date -d yesterday +%Y)" -f formatExport=CSV --output sales.csv',
            "yesterday's sales as CSV, into a file",
          ],
          [
            "kash api webapp -X POST -f 'itemsList[]=12' -f 'itemsList[]=15' -f payment=1",
            'record a sale of two items (the fields are the service’s own)',
          ],
        ),
      ),
};

export async function runApi(ctx: Context, endpoint: string, options: ApiOptions): Promise<void> {
  if (ctx.settings.json) {
    throw usageError(
      '--json does not apply to kash api: the body of the answer is the result',
      'Ask the service for JSON: -f format=json.',
    );
  }
  const method = parseMethod(options.method);
  const fields = options.field.map(parseField);
  const output = options.output === undefined ? undefined : refuseMangled(options.output, '--output');
  // Not logged in (exit 5) is said before anything is sent.
  const effective = await effectiveCredentials(ctx);
  const network = ctx.settings.network();
  // The profile's own service, unless the base URL was given here.
  const base =
    network.baseUrlGiven || effective.source === 'env' ? network.baseUrl : parseBaseUrl(effective.saved.baseUrl);
  const url = endpointUrl(base, endpoint);
  const body = method === 'POST' ? new URLSearchParams() : undefined;
  const params = body ?? url.searchParams;
  for (const [name, value] of fields) params.append(name, value);
  params.append('key', effective.apiKey);
  params.append('shopID', effective.shopId);
  params.append('idboutique', effective.shopId);
  const target = output === undefined ? stdoutTarget(ctx) : fileTarget(output);
  try {
    const { refusal } = await callApi(
      {
        url,
        method,
        body,
        timeoutMs: network.timeoutMs,
        env: ctx.env,
        userAgent: `kash/${VERSION} node/${process.versions.node} (${process.platform})`,
        warn: (message) => ctx.ui.warn(message),
        debug: ctx.settings.verbose ? (line) => ctx.ui.debug(line) : undefined,
      },
      target,
    );
    if (refusal !== undefined) {
      throw new KashError(ExitCode.refused, `the service refused: ${refusal}`, {
        hint: 'The service does not document its answer to a wrong or revoked key; check the fields, or log in again.',
      });
    }
    target.commit();
  } finally {
    target.discard();
  }
}

function parseMethod(value: string | undefined): 'GET' | 'POST' {
  const method = (value ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw usageError(`-X must be GET or POST; got ${quote(value ?? '')}`);
  return method;
}

function parseField(value: string): [string, string] {
  const equals = value.indexOf('=');
  const name = equals > 0 ? value.slice(0, equals) : '';
  if (name === '' || hasControlOrFormatChars(name)) {
    throw usageError(
      `-f takes name=value; got ${quote(value)}`,
      'For example -f format=json, or -f itemsList[]=12 to repeat.',
    );
  }
  if (
    CREDENTIAL_FIELDS.includes(name.replace(/\[\]$/, '')) ||
    CREDENTIAL_FIELDS.some((f) => f.toLowerCase() === name.toLowerCase())
  ) {
    throw usageError(
      `-f ${name} is kash's to send: it adds key, shopID and idboutique from the credentials in effect`,
      'Drop that field; use --profile to choose the credentials.',
    );
  }
  return [refuseMangled(name, '-f'), refuseMangled(value.slice(equals + 1), `-f ${name}`)];
}

/** A name under /workers/, a path under the base URL, or a URL on its origin; nothing else is ever sent the key. */
export function endpointUrl(base: string, endpoint: string): URL {
  const refuse = (why: string) =>
    usageError(
      `cannot call ${quote(endpoint)}: ${why}`,
      'Give a name such as getPaymentModes, a path such as /workers/getSales.php, or a URL on the service.',
    );
  if (hasControlOrFormatChars(refuseMangled(endpoint, 'the endpoint'))) throw refuse('it holds control characters');
  const origin = new URL(base).origin;
  let url: URL | null;
  if (NAME.test(endpoint)) url = new URL(`${base}/workers/${endpoint}.php`);
  else if (endpoint.startsWith('/')) {
    const path = endpoint.split(/[?#]/)[0] ?? '';
    if (path.split('/').some((segment) => /^(\.|%2e){2}$/i.test(segment))) throw refuse('a path may not go up (..)');
    url = URL.parse(`${base}${endpoint}`);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
    url = URL.parse(endpoint);
    if (url && url.origin !== origin) throw refuse(`it is not on ${origin}, where the credentials belong`);
  } else throw refuse('it is neither a name, a path nor a URL');
  if (!url || url.origin !== origin) throw refuse('it does not stay on the service');
  url.hash = '';
  return url;
}

interface Target extends BodyTarget {
  commit(): void;
  discard(): void;
}

/** Byte for byte, except for a person: JSON laid out, and nothing binary on a terminal. */
function stdoutTarget(ctx: Context): Target {
  return {
    start(first, complete) {
      if (ctx.io.stdoutIsTTY) {
        const binary = binaryReason(first);
        if (binary) {
          throw new KashError(
            ExitCode.internal,
            `the answer is binary (${binary}); kash does not write it to a terminal`,
            {
              hint: 'Write it to a file: --output <file>, or redirect standard output (> file).',
            },
          );
        }
        const pretty = complete ? prettyJson(Buffer.from(first).toString('utf8').trim()) : undefined;
        if (pretty !== undefined) {
          ctx.io.stdout.write(pretty);
          return;
        }
      }
      ctx.io.stdout.write(first);
    },
    write: (chunk) => ctx.io.stdout.write(chunk),
    commit: () => undefined,
    discard: () => undefined,
  };
}

/** A file of its own beside the target, renamed over it only when everything went well. */
function fileTarget(path: string): Target {
  const fs = process.getBuiltinModule('node:fs');
  const { dirname, basename, join } = process.getBuiltinModule('node:path');
  const token = process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex');
  const temporary = join(dirname(path), `.${basename(path)}.kash-${token}`);
  let fd: number | undefined;
  let committed = false;
  const open = () => {
    try {
      fd ??= fs.openSync(temporary, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o666);
    } catch (error) {
      throw new KashError(ExitCode.internal, `cannot write ${path} (${(error as NodeJS.ErrnoException).code})`, {
        hint: 'Check that its folder exists and is writable.',
        cause: error,
      });
    }
    return fd;
  };
  const write = (chunk: Uint8Array) => {
    const to = open();
    for (let done = 0; done < chunk.length; ) done += fs.writeSync(to, chunk, done, chunk.length - done);
  };
  return {
    start: (first) => write(first),
    write,
    commit() {
      try {
        const to = open();
        fs.fsyncSync(to);
        fs.closeSync(to);
        fd = undefined;
        fs.renameSync(temporary, path);
        committed = true;
      } catch (error) {
        if (error instanceof KashError) throw error;
        throw new KashError(ExitCode.internal, `cannot write ${path} (${(error as NodeJS.ErrnoException).code})`, {
          hint: 'Check the space left and the permissions of its folder; the file was left as it was.',
          cause: error,
        });
      }
    },
    discard() {
      if (committed) return;
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
    },
  };
}

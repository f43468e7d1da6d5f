import type { Command } from 'commander';
import type { ServiceClient } from './api/client.js';
import { cancelText } from './cancel.js';
import type { RunHooks } from './exit.js';
import type { Scope } from './hints.js';
import { colorLevel, type IO, withColor } from './io.js';
import type { Secrets } from './output/redact.js';
import { Ui } from './output/ui.js';
import type { Prompter } from './prompt.js';
import { type GlobalFlags, isVerbose, resolveSettings, type Settings } from './settings.js';
import { type Keyring, type KeyringOptions, systemKeyring } from './store/keyring.js';
import { CredentialStore } from './store/store.js';

declare const KASH_VERSION: string | undefined;
/** Set by the bundler from package.json; tests run the sources, where it is absent. */
export const VERSION = typeof KASH_VERSION === 'string' ? KASH_VERSION : '0.0.0-dev';

/**
 * What a command is handed, after GitHub CLI's cmdutil.Factory: the IO, the resolved
 * global settings, and dependencies that are built only when a command asks for them.
 */
export interface Context {
  io: IO;
  env: NodeJS.ProcessEnv;
  settings: Settings;
  ui: Ui;
  /** Every secret this run handles: kept off stderr, whoever writes there. */
  secrets: Secrets;
  /** The profile in use: the one --profile or KASH_PROFILE names, else the store's default, else "default". */
  profile(): string;
  /** The profile and the folder a hint's command line must name. */
  scope(): Scope;
  /** True when a person can answer: stdin and stderr are terminals and input is allowed. */
  readonly canPrompt: boolean;
  /** Why nobody can be asked here (for "cannot prompt" errors), or undefined when someone can. */
  readonly cannotPromptBecause: string | undefined;
  /** Ends kash with this status rather than 0, once the command returns (`kash exec`). */
  exitWith(status: number): void;
  store(): CredentialStore;
  /** The system keyring, every call bounded; the library is loaded at the first call only. */
  keyring(): Keyring;
  client(): Promise<ServiceClient>;
  prompter(): Promise<Prompter>;
}

/** Builds a command's context from the commander command it runs as. */
export type ContextFactory = (command: Command) => Promise<Context>;

/** What tests replace: the prompter, which would otherwise need a terminal. */
export interface Overrides {
  prompter?: () => Promise<Prompter>;
  /** An in-memory keyring, so that no test reaches a developer's own. */
  keyring?: () => Keyring;
}

/**
 * A command's context from the global flags typed: color and verbosity decided first (so
 * that a setting that fails is itself shown as asked), then the settings.
 */
export async function contextForFlags(
  flags: GlobalFlags,
  io: IO,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
  overrides: Overrides,
  on: RunHooks,
): Promise<Context> {
  const shownIO = await withColor(io, colorLevel(flags.noColor === true, env, io.stderrIsTTY));
  on.shown({ io: shownIO, verbose: isVerbose(flags, env) });
  return createContext(shownIO, env, resolveSettings(flags, env), secrets, overrides, on.exitWith);
}

/** `io` already carries the run's color; `settings` are resolved. */
export function createContext(
  io: IO,
  env: NodeJS.ProcessEnv,
  settings: Settings,
  secrets: Secrets,
  overrides: Overrides = {},
  exitWith: (status: number) => void = () => undefined,
): Context {
  const ui = new Ui(io, settings.verbose, secrets);
  let store: CredentialStore | undefined;
  let client: Promise<ServiceClient> | undefined;
  let keyring: Keyring | undefined;
  const context: Context = {
    io,
    env,
    settings,
    ui,
    secrets,
    profile: () => settings.profile?.name ?? context.store().defaultProfile() ?? 'default',
    scope: () => ({ profile: context.profile(), configDirFlag: settings.configDirFlag }),
    // A getter: asking whether stdin is a terminal opens it, which the print path need not pay for.
    get canPrompt() {
      return context.cannotPromptBecause === undefined;
    },
    get cannotPromptBecause() {
      if (settings.noInputBecause !== undefined) return settings.noInputBecause;
      if (!io.stdinIsTTY) return 'standard input is not a terminal';
      return io.stderrIsTTY ? undefined : 'standard error is not a terminal';
    },
    exitWith,
    store: () => {
      store ??= new CredentialStore(settings.configDir, (message) => ui.warn(message));
      return store;
    },
    keyring: () => {
      keyring ??= overrides.keyring?.() ?? systemKeyring(keyringOptions(io, env, ui));
      return keyring;
    },
    // Loaded where used: the print path needs neither the service client nor the prompts.
    client: () => {
      client ??= buildClient(env, settings, ui, secrets);
      return client;
    },
    prompter: async () => {
      const { cancellable, inquirerPrompter } = await import('./prompt.js');
      return cancellable(await (overrides.prompter ?? (() => inquirerPrompter(io)))());
    },
  };
  return context;
}

/**
 * 3 s for a keyring call, or 60 s where a person can answer an unlock prompt (a terminal,
 * and on Linux a display to show it on); after a second, kash says it is waiting.
 */
function keyringOptions(io: IO, env: NodeJS.ProcessEnv, ui: Ui): KeyringOptions {
  const display = process.platform !== 'linux' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  const limitMs = io.stdinIsTTY && io.stderrIsTTY && display ? 60_000 : 3_000;
  return {
    timings: { limitMs, noticeMs: 1_000 },
    waitingText: ui.infoText('Waiting for the system keyring (it may be asking you to unlock it)…'),
    stuckText: ui.errorText(
      `the system keyring did not answer within ${limitMs / 1000} s`,
      'Check that its daemon runs and answers, or log in with --storage file.',
    ),
    cancelledText: cancelText,
  };
}

async function buildClient(
  env: NodeJS.ProcessEnv,
  settings: Settings,
  ui: Ui,
  secrets: Secrets,
): Promise<ServiceClient> {
  const { baseUrl, timeoutMs } = settings.network();
  const { ServiceClient } = await import('./api/client.js');
  return new ServiceClient({
    baseUrl,
    timeoutMs,
    env,
    warn: (message) => ui.warn(message),
    secret: (value) => secrets.add(value),
    userAgent: `kash/${VERSION} node/${process.versions.node} (${process.platform})`,
    debug: settings.verbose ? (line) => ui.debug(line) : undefined,
  });
}

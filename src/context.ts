import type { Command } from 'commander';
import { ServiceClient } from './api/client.js';
import { type IO, withoutColour } from './io.js';
import { Ui } from './output/ui.js';
import { cancellable, inquirerPrompter, type Prompter } from './prompt.js';
import { resolveSettings, type Settings } from './settings.js';
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
  /** True when a person can answer: stdin and stderr are terminals and input is allowed. */
  readonly canPrompt: boolean;
  /** Ends kash with this status rather than 0, once the command returns (`kash exec`). */
  exitWith(status: number): void;
  store(): CredentialStore;
  client(): Promise<ServiceClient>;
  prompter(): Promise<Prompter>;
}

export interface Overrides {
  prompter?: () => Promise<Prompter>;
}

export function createContext(
  io: IO,
  env: NodeJS.ProcessEnv,
  command: Command,
  overrides: Overrides = {},
  exitWith: (status: number) => void = () => undefined,
): Context {
  const settings = resolveSettings(command, env);
  const shownIO = settings.colour ? io : withoutColour(io);
  const ui = new Ui(shownIO, settings.verbose);
  let store: CredentialStore | undefined;
  return {
    io: shownIO,
    env,
    settings,
    ui,
    // A getter: asking whether stdin is a terminal opens it, which the print path need not pay for.
    get canPrompt() {
      return settings.inputAllowed && io.stdinIsTTY && io.stderrIsTTY;
    },
    exitWith,
    store: () => (store ??= new CredentialStore(settings.configDir, (message) => ui.warn(message))),
    client: async () =>
      new ServiceClient({
        baseUrl: settings.baseUrl,
        timeoutMs: settings.timeoutMs,
        env,
        warn: (message) => ui.warn(message),
        userAgent: `kash/${VERSION} node/${process.versions.node} (${process.platform})`,
        debug: settings.verbose ? (line) => ui.debug(line) : undefined,
      }),
    prompter: async () => cancellable(await (overrides.prompter ?? (() => inquirerPrompter(shownIO)))()),
  };
}

/** Builds a command's context from the commander command it runs as. */
export type ContextFactory = (command: Command) => Context;

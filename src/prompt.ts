import { ExitCode, KashError } from './errors.js';
import type { IO } from './io.js';

export interface Choice<T> {
  name: string;
  value: T;
}

/** The prompts kash asks; tests hand in a scripted one. */
export interface Prompter {
  text(message: string, validate?: (value: string) => string | true): Promise<string>;
  secret(message: string): Promise<string>;
  choose<T>(message: string, choices: Choice<T>[]): Promise<T>;
}

const cancelled = (cause: unknown) => new KashError(ExitCode.cancelled, 'cancelled; nothing was changed', { cause });

/** Ctrl-C inside a prompt arrives as ExitPromptError; it means "leave everything as it was". */
async function guard<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if ((error as Error | null)?.name === 'ExitPromptError') throw cancelled(error);
    throw error;
  }
}

/** Any prompter, real or scripted, with Ctrl-C turned into "cancelled" (exit 130). */
export function cancellable(prompter: Prompter): Prompter {
  return {
    text: (message, validate) => guard(() => prompter.text(message, validate)),
    secret: (message) => guard(() => prompter.secret(message)),
    choose: (message, choices) => guard(() => prompter.choose(message, choices)),
  };
}

/** @inquirer/prompts, loaded only when a person is actually asked something. */
export async function inquirerPrompter(io: IO): Promise<Prompter> {
  const { input, password, select } = await import('@inquirer/prompts');
  const context = { input: io.stdin, output: io.stderrStream, clearPromptOnDone: false };
  return {
    text: (message, validate) =>
      input({ message, validate: validate ?? ((v) => v.trim() !== '' || 'Required') }, context),
    secret: (message) => password({ message, mask: '*', validate: (v) => v !== '' || 'Required' }, context),
    choose: (message, choices) => select({ message, choices }, context),
  };
}

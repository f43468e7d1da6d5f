import { cancelledError } from './cancel.js';
import type { Color, IO } from './io.js';

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

/** Ctrl-C inside a prompt arrives as ExitPromptError; it means "leave everything as it was". */
async function guard<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if ((error as Error | null)?.name === 'ExitPromptError') throw cancelledError(error);
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

/**
 * inquirer's look, painted with kash's colors: its own palette decides by itself, so
 * --no-color would not reach it. Each style takes its text alone: inquirer passes more
 * (the prompt's status), which chalk would print.
 */
function theme(color: Color) {
  return {
    prefix: { idle: color.cyan('?'), done: color.green('✔') },
    style: {
      answer: (text: string) => color.cyan(text),
      message: (text: string) => color.bold(text),
      error: (text: string) => color.red(`> ${text}`),
      defaultAnswer: (text: string) => color.dim(`(${text})`),
      help: (text: string) => color.dim(text),
      highlight: (text: string) => color.cyan(text),
      key: (text: string) => color.cyan(color.bold(`<${text}>`)),
      disabled: (text: string) => color.dim(`- ${text}`),
      description: (text: string) => color.cyan(text),
      keysHelpTip: (keys: [string, string][]) =>
        keys.map(([key, action]) => `${color.bold(key)} ${color.dim(action)}`).join(color.dim(' • ')),
    },
  };
}

/** @inquirer/prompts, loaded only when a person is actually asked something. */
export async function inquirerPrompter(io: IO): Promise<Prompter> {
  const { input, password, select } = await import('@inquirer/prompts');
  const context = { input: io.stdin, output: io.stderrStream, clearPromptOnDone: false };
  const look = theme(io.color);
  return {
    text: (message, validate) =>
      input({ message, theme: look, validate: validate ?? ((v) => v.trim() !== '' || 'Required') }, context),
    secret: (message) =>
      password({ message, mask: '*', theme: look, validate: (v) => v !== '' || 'Required' }, context),
    choose: (message, choices) => select({ message, choices, theme: look }, context),
  };
}

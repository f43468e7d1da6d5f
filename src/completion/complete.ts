// What `kash __complete` offers, read from the commander program itself as cobra does: the
// scripts that `kash completion <shell>` prints only hand it the words and show its answer.
import type { Argument, Command, Help, Option } from 'commander';
import { ENV_FORMATS } from '../output/env-format.js';

export const Directive = { error: 1, noSpace: 2, noFiles: 4, foldersOnly: 16 } as const;
export type Candidate = { value: string; description?: string | undefined };
export type Completion = { candidates: Candidate[]; directive: number };
/** A fixed list, or what only this machine knows (asked of `Sources`, with a store folder given among the words). */
export type Source = ReadonlyArray<string | Candidate> | 'profiles' | 'files' | 'folders' | 'executables';
export type Sources = { profiles(configDir: string | undefined): string[]; executables(prefix: string): string[] };

const tags = new WeakMap<Argument | Option, Source>();
/** Declares where the values of a commander argument or option are completed from. */
export function completeFrom<T extends Argument | Option>(target: T, source: Source): T {
  tags.set(target, source);
  return target;
}

// The options of today's commands, by name wherever they appear; a tag or commander's choices come first.
const BY_NAME: Record<string, Source> = { '--format': ENV_FORMATS, '--profile': 'profiles', '--config-dir': 'folders' };

const takesValue = (option: Option | undefined) => option !== undefined && (option.required || option.optional);
const isOption = (word: string) => word.length > 1 && word.startsWith('-');
const names = (option: Option) => [option.long, option.short].filter((name) => name !== undefined);
/** `--name=value` as commander splits it (a short option's value follows it with no `=`). */
const split = (word: string) => (/^(--[^=]+)=(.*)$/s.exec(word)?.slice(1) ?? [word]) as [string, string?];
/** Commander reads the program's options anywhere after it, so they count in every subcommand. */
const optionsAt = (help: Help, c: Command) => [...help.visibleOptions(c), ...help.visibleGlobalOptions(c)];

/** What to offer for `current`, the word under the cursor, after `words` (those after the program's name). */
export function complete(program: Command, words: readonly string[], current: string, sources: Sources): Completion {
  const help = Object.assign(program.createHelp(), { showGlobalOptions: true });
  let command = program;
  let parent: Command | undefined;
  let awaiting: Option | undefined;
  let dashdash = false;
  let configDir: string | undefined;
  const operands: string[] = [];
  const find = (name: string) => optionsAt(help, command).find((o) => o.long === name || o.short === name);
  for (const word of words) {
    if (awaiting?.long === '--config-dir') configDir = word;
    if (awaiting) awaiting = undefined;
    else if (dashdash) operands.push(word);
    else if (word === '--') dashdash = true;
    else if (isOption(word)) {
      const [name, value] = split(word);
      if (value === undefined) awaiting = takesValue(find(name)) ? find(name) : undefined;
      else if (name === '--config-dir') configDir = value;
    } else {
      const sub =
        operands.length === 0 && help.visibleCommands(command).find((c) => [c.name(), ...c.aliases()].includes(word));
      if (sub) [parent, command] = [command, sub];
      else operands.push(word);
    }
  }
  const [name, value] = split(current);
  // `--name=val` is completed as `--name val` would be (and the scripts put `--name=` back as they must).
  if (!awaiting && !dashdash && value !== undefined && takesValue(find(name)))
    return complete(program, [...words, name], value, sources);
  const named = (list: Command[]) => list.map((c) => ({ value: c.name(), description: c.description() }));
  let source: Source;
  if (awaiting) source = tags.get(awaiting) ?? awaiting.argChoices ?? BY_NAME[awaiting.long ?? ''] ?? [];
  else if (!dashdash && current.startsWith('-'))
    source = optionsAt(help, command).flatMap((o) => names(o).map((value) => ({ value, description: o.description })));
  else {
    const args = command.registeredArguments;
    const argument = args[operands.length] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
    // Commander's own help command (not among its parent's commands) takes the name of another.
    if (parent && !parent.commands.includes(command))
      source = operands.length > 0 ? [] : named(help.visibleCommands(parent).filter((c) => c !== command));
    else if (!dashdash && operands.length === 0 && help.visibleCommands(command).length > 0)
      source = named(help.visibleCommands(command));
    // An untagged argument that gathers the rest is a command line of its own (`exec -- cmd args…`).
    else if (argument?.variadic && !tags.has(argument) && !argument.argChoices)
      source = operands.length === args.length - 1 ? 'executables' : 'files';
    else source = argument ? (tags.get(argument) ?? argument.argChoices ?? []) : [];
  }
  if (source === 'files' || source === 'folders' || (source === 'executables' && current.includes('/')))
    return { candidates: [], directive: source === 'folders' ? Directive.foldersOnly : 0 };
  if (typeof source === 'string')
    source = source === 'profiles' ? sources.profiles(configDir) : sources.executables(current);
  const candidates = source.map((value) => (typeof value === 'string' ? { value } : value));
  return { candidates: candidates.filter((c) => c.value.startsWith(current)), directive: Directive.noFiles };
}

import { readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Argument, type Command } from 'commander';
import { complete, type Sources } from '../completion/complete.js';
import { completionScript, INSTALL, SHELLS, type Shell } from '../completion/scripts.js';
import type { Sink } from '../io.js';
import { examples } from '../output/examples.js';
import { defaultConfigDir, homeFolder } from '../store/paths.js';
import { isProfileName } from '../store/records.js';
import { peekProfileNames } from '../store/store.js';
import type { CommandEntry } from './spec.js';

/** The hidden command that the scripts run; `run()` hands it the words before commander reads them. */
export const COMPLETE = '__complete';

/** No settings to resolve: the script goes to stdout as commander's own output (the program's). */
export const completionCommand: CommandEntry = {
  name: 'completion',
  helpGroup: 'Set up:',
  description: 'print a shell completion script: commands, options, formats and saved profiles',
  define: (command) =>
    command
      .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
      .addHelpText('after', examples(...SHELLS.flatMap((shell) => INSTALL[shell])))
      .action((shell: Shell, _: unknown, self: Command) => self.configureOutput().writeOut?.(completionScript(shell))),
};

/** At every TAB: so no settings that could fail, nothing written but the answer, and always exit 0. */
export function runComplete(program: Command, args: string[], stdout: Sink, env: NodeJS.ProcessEnv): number {
  try {
    const { candidates, directive } = complete(program, args.slice(0, -1), args.at(-1) ?? '', machineSources(env));
    const lines = candidates.map((c) => [c.value, c.description?.replace(/\s+/g, ' ')].filter(Boolean).join('\t'));
    stdout.write(`${[...lines, `:${directive}`].join('\n')}\n`);
  } catch {
    // Never an error at the prompt: the scripts take no answer as nothing to offer.
  }
  return 0;
}

export function machineSources(env: NodeJS.ProcessEnv): Sources {
  return {
    profiles: (dir) =>
      peekProfileNames(
        dir?.replace(/^~(?=\/|$)/, () => homeFolder(env)) || env.KASH_CONFIG_DIR || defaultConfigDir(env),
      )
        .filter(isProfileName)
        .sort(),
    // Names that a shell inserts as they are: no space, quote or other character it would read.
    executables: (prefix) => {
      const found = new Set<string>();
      for (const folder of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
        try {
          for (const name of readdirSync(folder).filter((n) => n.startsWith(prefix) && /^[\w.+,:@%-]+$/.test(n))) {
            const stat = statSync(join(folder, name), { throwIfNoEntry: false });
            if (stat?.isFile() && stat.mode & 0o111) found.add(name);
          }
        } catch {}
      }
      return [...found].sort();
    },
  };
}

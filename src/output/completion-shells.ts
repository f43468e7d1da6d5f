/** The shells kash writes completion scripts for, what a script is made from, and how each is installed. */

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** What an option's value is completed with. */
export type ValueCompletion =
  | { kind: 'text' } // anything: nothing to offer
  | { kind: 'choices'; values: readonly string[] }
  | { kind: 'profiles' } // the saved profile names, asked of kash itself
  | { kind: 'directory' };

export interface OptionSpec {
  /** `--format`; absent for a short-only option. */
  long?: string | undefined;
  /** `-h`; absent for a long-only option. */
  short?: string | undefined;
  description: string;
  /** Absent for a flag, which takes no value. */
  value?: ValueCompletion | undefined;
  /** What the help calls the value (`format` for `--format <format>`). */
  valueName?: string | undefined;
}

export interface CommandSpec {
  /** The words from the program to this command: [] for the program itself, ['otp', 'consume']. */
  path: readonly string[];
  description: string;
  /** Every option valid here: the command's own and its ancestors' (the global options). */
  options: readonly OptionSpec[];
  subcommands: ReadonlyArray<{ name: string; description: string }>;
  /** Candidates for the first operand (the shell of `completion`). */
  operands: readonly string[];
  /** Its operands after `--` are a command line of their own (`exec`), completed as the shell would. */
  passthrough: boolean;
}

export interface CompletionSpec {
  /** The executable's name. */
  program: string;
  /** One per command path, the program's (path []) first. */
  commands: readonly CommandSpec[];
  /** The arguments that make the program print the saved profile names, one per line. */
  profilesCommand: readonly string[];
  /** The global option naming the store folder; when typed, it is passed on to `profilesCommand`. */
  configDirOption: string;
}

/** How to install each script, as [command line, where it goes]: for the help and the scripts' headers. */
export const INSTALL: Record<Shell, Array<[command: string, where: string]>> = {
  bash: [['source <(kash completion bash)', 'bash: in ~/.bashrc']],
  zsh: [
    [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's own syntax, printed as it is
      'kash completion zsh > "${fpath[1]}/_kash"',
      'zsh: saved in a folder of your $fpath, before compinit runs (then start a new shell)',
    ],
    ['source <(kash completion zsh)', 'zsh, or: in ~/.zshrc, after compinit'],
  ],
  fish: [
    ['kash completion fish > ~/.config/fish/completions/kash.fish', 'fish: saved where fish looks for completions'],
  ],
  powershell: [
    ['kash completion powershell | Out-String | Invoke-Expression', 'PowerShell: in your profile ($PROFILE)'],
  ],
};

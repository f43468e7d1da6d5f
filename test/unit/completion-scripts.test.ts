// The completion scripts, from data to text (src/output/completion-scripts.ts), the data
// as read from the real commander program (src/commands/completion.ts), and the hidden
// command that lists the saved profiles. The scripts' behaviour in the real shells is in
// test/e2e/completion.test.ts.
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { completionSpec, runCompletion, runCompletionProfiles } from '../../src/commands/completion.js';
import type { Context } from '../../src/context.js';
import { KashError } from '../../src/errors.js';
import { type IO, NO_COLOR } from '../../src/io.js';
import { completionScript } from '../../src/output/completion-scripts.js';
import {
  type CommandSpec,
  type CompletionSpec,
  INSTALL,
  SHELLS,
  type Shell,
} from '../../src/output/completion-shells.js';
import { ENV_FORMATS } from '../../src/output/env-format.js';

// ---------------------------------------------------------------------------------------------
// A small spec, written by hand

const GLOBALS = [
  {
    long: '--profile',
    description: 'which saved credentials',
    value: { kind: 'profiles' as const },
    valueName: 'name',
  },
  {
    long: '--config-dir',
    description: 'where the store lives',
    value: { kind: 'directory' as const },
    valueName: 'dir',
  },
  { long: '--json', description: 'machine-readable' },
  { long: '--help', short: '-h', description: 'display help' },
];

const command = (path: string[], extra: Partial<CommandSpec> = {}): CommandSpec => ({
  path,
  description: path.join(' ') || 'the program',
  options: GLOBALS,
  subcommands: [],
  operands: [],
  passthrough: false,
  ...extra,
});

const SPEC: CompletionSpec = {
  program: 'kash',
  profilesCommand: ['completion', 'profiles'],
  configDirOption: '--config-dir',
  commands: [
    command([], {
      subcommands: [
        { name: 'login', description: 'log in' },
        { name: 'otp', description: 'two steps' },
        { name: 'exec', description: 'run a command' },
        { name: 'completion', description: 'print a script' },
      ],
    }),
    command(['login'], {
      options: [
        {
          long: '--format',
          description: 'with --no-save',
          value: { kind: 'choices', values: ['sh', 'json'] },
          valueName: 'format',
        },
        { long: '--otp', description: 'by email' },
        { long: '--login', description: 'your login', value: { kind: 'text' }, valueName: 'login' },
        ...GLOBALS,
      ],
    }),
    command(['otp'], {
      subcommands: [
        { name: 'request', description: 'email a code' },
        { name: 'consume', description: 'trade the code' },
      ],
    }),
    command(['otp', 'request']),
    command(['otp', 'consume'], {
      options: [{ long: '--otp', description: 'the code', value: { kind: 'text' }, valueName: 'code' }, ...GLOBALS],
    }),
    command(['exec'], { passthrough: true }),
    command(['completion'], { operands: ['bash', 'zsh', 'fish', 'powershell'] }),
  ],
};

const script = (shell: Shell, spec: CompletionSpec = SPEC) => completionScript(shell, spec);

describe('completionScript', () => {
  it.each(SHELLS)('%s: names every subcommand, option and choice of the spec', (shell) => {
    const text = script(shell);
    for (const word of [
      'login',
      'otp',
      'request',
      'consume',
      'exec',
      'completion',
      '--format',
      '--otp',
      '--login',
      '--profile',
      '--config-dir',
      '--json',
    ]) {
      expect(text).toContain(shell === 'fish' && word.startsWith('--') ? `-l ${word.slice(2)}` : word);
    }
    for (const value of ['sh', 'json', 'bash', 'zsh', 'fish', 'powershell'])
      expect(text).toMatch(new RegExp(`\\b${value}\\b`));
  });

  it.each<[Shell, string]>([
    ['bash', 'complete -F _kash kash\n'],
    ['zsh', '#compdef kash\n'],
    ['zsh', 'compdef _kash kash\n'],
    ['fish', 'complete -c kash -f\n'],
    ['powershell', "Register-ArgumentCompleter -Native -CommandName @('kash', 'kash.cmd', 'kash.ps1') -ScriptBlock {"],
  ])('%s: registers itself for the program: %j', (shell, fragment) => {
    expect(script(shell)).toContain(fragment);
  });

  it('zsh: the #compdef line comes first, so that compinit autoloads the file', () => {
    expect(script('zsh').startsWith('#compdef kash\n')).toBe(true);
  });

  // What an option's value is completed with, in each shell's own terms.
  it.each<[Shell, string]>([
    ['bash', "'login') case $2 in --format) echo 'choices sh json' ;;"],
    ['bash', "--profile) echo 'profiles'"],
    ['bash', "--config-dir) echo 'directory'"],
    ['bash', 'command kash completion profiles 2>/dev/null'],
    ['bash', 'command kash completion profiles --config-dir "$dir" 2>/dev/null'],
    ['zsh', "'--format=[with --no-save]:format:(sh json)'"],
    ['zsh', "'--profile=[which saved credentials]:name:_kash_profiles'"],
    ['zsh', "'--config-dir=[where the store lives]:dir:_directories'"],
    ['zsh', "'--login=[your login]:login: '"],
    ['zsh', "'(--help -h)--help[display help]'"],
    ['zsh', "'(--help -h)-h[display help]'"],
    ['zsh', '$(command kash completion profiles 2>/dev/null)'],
    ['zsh', '$(command kash completion profiles --config-dir "$dir" 2>/dev/null)'],
    ['fish', `complete -c kash -n '__kash_at "kash login"' -l format -x -a 'sh json' -d 'with --no-save'`],
    [
      'fish',
      `complete -c kash -n '__kash_at "kash"' -l profile -x -a '(__kash_profiles)' -d 'which saved credentials'`,
    ],
    ['fish', `complete -c kash -n '__kash_at "kash"' -l help -s h -d 'display help'`],
    ['fish', `complete -c kash -n '__kash_operand_at "kash otp"' -a consume -d 'trade the code'`],
    ['fish', `complete -c kash -n '__kash_operand_at "kash completion"' -a 'bash zsh fish powershell'`],
    ['fish', 'command kash completion profiles --config-dir $dir 2>/dev/null'],
    [
      'powershell',
      "@{ Name = '--format'; Value = 'choices'; Choices = @('sh', 'json'); Description = 'with --no-save' }",
    ],
    [
      'powershell',
      "@{ Name = '--profile'; Value = 'profiles'; Choices = @(); Description = 'which saved credentials' }",
    ],
    ['powershell', "@{ Name = '--json'; Value = ''; Choices = @(); Description = 'machine-readable' }"],
    ['powershell', "Operands = @('bash', 'zsh', 'fish', 'powershell')"],
    ['powershell', "& 'kash' 'completion' 'profiles' '--config-dir' $configDir 2>$null"],
  ])('%s: %s', (shell, fragment) => {
    expect(script(shell)).toContain(fragment);
  });

  // `--otp` is a flag of login but takes the code in `otp consume`: each script must know
  // which, per command, or it would read the word after `login --otp` as a value.
  it.each<[Shell, RegExp, RegExp]>([
    ['bash', /'otp consume'\) case \$2 in --otp[|)][^;]*echo 'text'/, /'login'\) case \$2 in [^\n]*--otp[|)]/],
    ['zsh', /'--otp=\[the code\]:code: '/, /'--otp=\[by email\]/],
    [
      'fish',
      /case 'kash otp consume'\n\s+contains -- \$argv\[2\] --otp /,
      /case 'kash login'\n\s+contains -- \$argv\[2\] [^\n]*--otp[ \n]/,
    ],
    [
      'powershell',
      /Name = '--otp'; Value = 'text'/,
      /Name = '--otp'; Value = 'text'; Choices = @\(\); Description = 'by email'/,
    ],
  ])('%s: an option takes a value only where it does', (shell, takes, notTakes) => {
    const text = script(shell);
    expect(text).toMatch(takes);
    expect(text).not.toMatch(notTakes);
  });

  it.each<[Shell, string]>([
    ['bash', "'exec') return 0 ;;"],
    ['zsh', '_normal'],
    ['fish', `complete -c kash -n '__kash_passthrough_at "kash exec" first' -a '(__fish_complete_command)'`],
    ['powershell', 'Passthrough = $true'],
  ])('%s: after `exec --`, completes a command line of its own', (shell, fragment) => {
    expect(script(shell)).toContain(fragment);
    const withoutExec = { ...SPEC, commands: SPEC.commands.map((c) => ({ ...c, passthrough: false })) };
    expect(script(shell, withoutExec)).not.toContain(fragment);
  });

  // Descriptions reach the scripts inside quotes; each shell has its own escapes.
  const NASTY = `it's [a]: "b" \u2018c\u2019 \\ $x\nnext`;
  it.each<[Shell, string]>([
    ['zsh', `'--json[it'\\''s \\[a\\]\\: "b" \u2018c\u2019 \\\\ $x next]'`],
    ['zsh', `'login:it'\\''s [a]: "b" \u2018c\u2019 \\ $x next'`],
    ['fish', `-d 'it\\'s [a]: "b" \u2018c\u2019 \\\\ $x next'`],
    ['powershell', `Description = 'it''s [a]: "b" \u2018\u2018c\u2019\u2019 \\ $x next'`],
  ])('%s: a description with quotes, brackets, colons and a line break is escaped: %s', (shell, fragment) => {
    const nasty: CompletionSpec = {
      ...SPEC,
      commands: SPEC.commands.map((c) => ({
        ...c,
        options: c.options.map((o) => (o.long === '--json' ? { ...o, description: NASTY } : o)),
        subcommands: c.subcommands.map((s) => (s.name === 'login' ? { ...s, description: NASTY } : s)),
      })),
    };
    const text = script(shell, nasty);
    expect(text).toContain(fragment);
    expect(text).not.toContain('\nnext');
  });

  it('bash: holds no description at all (bash shows none), so nothing to escape', () => {
    expect(script('bash')).not.toContain('trade the code');
  });

  // Names are written unquoted in places: anything a shell could read as code is refused.
  const withCommand = (name: string): CompletionSpec => ({
    ...SPEC,
    commands: [{ ...SPEC.commands[0]!, subcommands: [{ name, description: 'x' }] }],
  });
  const withOption = (long: string): CompletionSpec => ({
    ...SPEC,
    commands: [{ ...SPEC.commands[0]!, options: [{ long, description: 'x' }] }],
  });
  const withChoice = (value: string): CompletionSpec => ({
    ...SPEC,
    commands: [
      {
        ...SPEC.commands[0]!,
        options: [{ long: '--format', description: 'x', value: { kind: 'choices', values: [value] } }],
      },
    ],
  });
  it.each<[string, CompletionSpec]>([
    ['a program name with a ;', { ...SPEC, program: 'kash;rm' }],
    ['a command with a space', withCommand('two words')],
    ['a command with $()', withCommand('$(touch x)')],
    ['a command starting with -', withCommand('-x')],
    ['an option with a quote', withOption("--a'b")],
    ['an option without dashes', withOption('format')],
    ['a choice with a backtick', withChoice('`id`')],
    ['a choice with a glob', withChoice('*')],
    ['an empty choice', withChoice('')],
    ['the program not first', { ...SPEC, commands: SPEC.commands.slice(1) }],
  ])('refuses %s', (_, spec) => {
    for (const shell of SHELLS) expect(() => completionScript(shell, spec)).toThrow(/cannot write a completion script/);
  });

  it.each(SHELLS)('%s: the header says how to install it', (shell) => {
    const text = script(shell);
    for (const [commandLine] of INSTALL[shell]) expect(text).toContain(`#     ${commandLine}\n`);
  });

  it.each<[Shell, string]>([
    ['bash', 'source <(kash completion bash)'],
    ['zsh', 'kash completion zsh > "${fpath[1]}/_kash"'],
    ['fish', 'kash completion fish > ~/.config/fish/completions/kash.fish'],
    ['powershell', 'kash completion powershell | Out-String | Invoke-Expression'],
  ])('%s is installed with: %s', (shell, commandLine) => {
    expect(INSTALL[shell].map(([line]) => line)).toContain(commandLine);
  });

  // No PowerShell to run it here: at least every bracket it opens, it closes.
  it('powershell: braces, brackets and parentheses balance outside strings and comments', () => {
    expect(unbalanced(script('powershell'))).toBeUndefined();
    // The check itself finds a missing brace.
    expect(unbalanced(script('powershell').replace(/\}\s*$/, ''))).toBeDefined();
  });
});

/** Where PowerShell text's brackets stop balancing, or undefined. Skips 'strings', "strings" and # comments. */
function unbalanced(text: string): string | undefined {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'") {
      for (i++; i < text.length; i++) {
        if (text[i] === "'" && text[i + 1] === "'") i++;
        else if (text[i] === "'") break;
      }
    } else if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '`') i++;
    } else if ('([{'.includes(c)) {
      stack.push(c);
    } else if (c in pairs) {
      if (stack.pop() !== pairs[c]) return `unexpected ${c} at offset ${i}`;
    }
  }
  return stack.length > 0 ? `unclosed ${stack.join('')}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// The spec of the real program

const silentIO = { stdout: { write: () => undefined }, stderr: { write: () => undefined } } as unknown as IO;
const program = () =>
  buildProgram(silentIO, async () => {
    throw new Error('no command runs here');
  });
const at = (spec: CompletionSpec, path: string) => {
  const found = spec.commands.find((c) => c.path.join(' ') === path);
  if (!found)
    throw new Error(`no command ${JSON.stringify(path)} in ${spec.commands.map((c) => c.path.join(' ')).join(', ')}`);
  return found;
};
const option = (c: CommandSpec, long: string) => c.options.find((o) => o.long === long);

describe('completionSpec, read from the commander program', () => {
  const spec = completionSpec(program());

  it('lists the commands of shared/CLI.md, completion and help, and not the hidden profiles command', () => {
    const names = at(spec, '').subcommands.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['login', 'otp', 'whoami', 'env', 'exec', 'logout', 'shops', 'completion', 'help']),
    );
    expect(names).not.toContain('profiles');
    expect(spec.commands.map((c) => c.path.join(' '))).not.toContain('completion profiles');
    expect(at(spec, 'otp').subcommands.map((s) => s.name)).toEqual(['request', 'consume', 'help']);
  });

  it.each<[string, string[]]>([
    ['login', ['--login', '--password-stdin', '--otp', '--email', '--account-id', '--no-save', '--format']],
    ['otp request', ['--email', '--account-id']],
    ['otp consume', ['--email', '--otp', '--no-save', '--format']],
    ['whoami', ['--all']],
    ['env', ['--format', '--prefix']],
    ['logout', ['--all']],
    ['shops', ['--email', '--title']],
    ['exec', ['--prefix']],
  ])('%s: its own options, the help option and every global option', (path, own) => {
    const longs = at(spec, path).options.map((o) => o.long);
    expect(longs).toEqual(
      expect.arrayContaining([
        ...own,
        '--help',
        '--profile',
        '--base-url',
        '--config-dir',
        '--timeout',
        '--json',
        '--no-input',
        '--verbose',
        '--no-color',
      ]),
    );
    expect(at(spec, path).options.find((o) => o.long === '--help')?.short).toBe('-h');
  });

  it.each<[string, string, string | undefined]>([
    ['login', '--otp', undefined],
    ['login', '--password-stdin', undefined],
    ['login', '--no-save', undefined],
    ['login', '--login', 'text'],
    ['otp consume', '--otp', 'text'],
    ['login', '--format', 'choices'],
    ['otp consume', '--format', 'choices'],
    ['env', '--format', 'choices'],
    ['', '--profile', 'profiles'],
    ['shops', '--profile', 'profiles'],
    ['', '--config-dir', 'directory'],
    ['', '--json', undefined],
    ['', '--timeout', 'text'],
  ])('%s %s: its value is %s', (path, long, kind) => {
    expect(option(at(spec, path), long)?.value?.kind).toBe(kind);
  });

  it('--format values are ENV_FORMATS, wherever --format is', () => {
    for (const path of ['login', 'otp consume', 'env']) {
      expect(option(at(spec, path), '--format')?.value).toEqual({ kind: 'choices', values: ENV_FORMATS });
    }
  });

  it('completion takes a shell; help takes a command; exec runs a command line after --', () => {
    expect(at(spec, 'completion').operands).toEqual([...SHELLS]);
    expect(at(spec, 'help').operands).toEqual(expect.arrayContaining(['login', 'otp', 'env']));
    expect(at(spec, 'help').operands).not.toContain('help');
    expect(at(spec, 'exec').passthrough).toBe(true);
    expect(spec.commands.filter((c) => c.passthrough).map((c) => c.path.join(' '))).toEqual(['exec']);
  });

  it('the scripts ask kash for profiles with the hidden command, passing --config-dir on', () => {
    expect(spec.profilesCommand).toEqual(['completion', 'profiles']);
    expect(spec.configDirOption).toBe('--config-dir');
    const hidden = program()
      .commands.find((c) => c.name() === 'completion')
      ?.commands.find((c) => c.name() === 'profiles');
    expect(hidden).toBeDefined();
  });

  it('follows the program as it changes: a new command, option and choice appear; hidden ones do not', () => {
    const changed = program();
    changed.addCommand(
      new Command('report')
        .description('a new command')
        .option('--since <date>', 'from when')
        .addOption(new Option('--level <level>', 'how much').choices(['low', 'high']))
        .addOption(new Option('--secret-switch', 'not for people').hideHelp()),
    );
    changed.addCommand(new Command('internal'), { hidden: true });
    const next = completionSpec(changed);
    expect(at(next, '').subcommands.map((s) => s.name)).toContain('report');
    expect(at(next, '').subcommands.map((s) => s.name)).not.toContain('internal');
    expect(option(at(next, 'report'), '--since')?.value).toEqual({ kind: 'text' });
    expect(option(at(next, 'report'), '--level')?.value).toEqual({ kind: 'choices', values: ['low', 'high'] });
    expect(option(at(next, 'report'), '--secret-switch')).toBeUndefined();
    expect(option(at(next, 'report'), '--profile')?.value).toEqual({ kind: 'profiles' });
    for (const shell of SHELLS) {
      const text = completionScript(shell, next);
      expect(text).toContain('report');
      expect(text).toMatch(/low[ ',]+high/);
      expect(text).not.toContain('secret-switch');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The run functions, with fakes

function fakeContext(read: () => { profiles: Record<string, unknown> }): {
  ctx: Context;
  stdout: () => string;
  stderr: () => string;
} {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (text: string) => void (out += text) },
    stderr: { write: (text: string) => void (err += text) },
    color: NO_COLOR,
    palette: async () => NO_COLOR,
  };
  const ctx = { io, store: () => ({ read }) } as unknown as Context;
  return { ctx, stdout: () => out, stderr: () => err };
}

describe('runCompletionProfiles', () => {
  it('prints the saved profile names, one per line, sorted', async () => {
    const fake = fakeContext(() => ({ profiles: { work: {}, default: {}, 'staging.eu': {} } }));
    await runCompletionProfiles(fake.ctx);
    expect(fake.stdout()).toBe('default\nstaging.eu\nwork\n');
    expect(fake.stderr()).toBe('');
  });

  it('leaves out a name that is no valid profile name (a hand-edited store), rather than hand it to a shell', async () => {
    const fake = fakeContext(() => ({ profiles: { ok: {}, '$(touch x)': {}, 'two words': {}, '': {} } }));
    await runCompletionProfiles(fake.ctx);
    expect(fake.stdout()).toBe('ok\n');
  });

  it.each([
    ['no profile', () => ({ profiles: {} })],
    [
      'a corrupt store',
      () => {
        throw new KashError(6, 'the credential store is corrupt');
      },
    ],
    [
      'an unreadable store',
      () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
    ],
  ])('with %s prints nothing and does not fail', async (_, read) => {
    const fake = fakeContext(read);
    await expect(runCompletionProfiles(fake.ctx)).resolves.toBeUndefined();
    expect(fake.stdout()).toBe('');
    expect(fake.stderr()).toBe('');
  });
});

describe('runCompletion', () => {
  it.each(SHELLS)('writes the %s script on stdout', async (shell) => {
    const fake = fakeContext(() => ({ profiles: {} }));
    await runCompletion(fake.ctx, { shell, spec: SPEC });
    expect(fake.stdout()).toBe(completionScript(shell, SPEC));
    expect(fake.stderr()).toBe('');
  });
});

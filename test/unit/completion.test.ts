// Completion, tested once: `complete()` (src/completion/complete.ts) against the real commander
// program, by tables; what `kash __complete` prints and where it looks (src/commands/completion.ts);
// and the scripts as text. The real bash, zsh and fish drive the scripts in test/e2e/completion.test.ts.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DOCUMENTED_ENDPOINTS } from '../../src/commands/api.js';
import { COMPLETE, machineSources, runComplete } from '../../src/commands/completion.js';
import { type Completion, complete, completeFrom, Directive, type Sources } from '../../src/completion/complete.js';
import { completionScript, INSTALL, SHELLS, type Shell } from '../../src/completion/scripts.js';
import type { IO } from '../../src/io.js';
import { ENV_FORMATS } from '../../src/output/env-format.js';
import { buildProgram, commandsInFull } from '../../src/program.js';

const silentIO = { stdout: { write: () => undefined }, stderr: { write: () => undefined } } as unknown as IO;
/** The program as `kash __complete <words>` builds it: in full only the commands those words name. */
const program = (words: readonly string[] = []) =>
  buildProgram(
    silentIO,
    () => {
      throw new Error('no command runs while completing');
    },
    commandsInFull([COMPLETE, ...words]),
  );

const SAVED: Record<string, string[]> = { '': ['default', 'staging.eu', 'work-2'], '/other store': ['elsewhere'] };
/** Fake sources that say what they were asked. */
function fakeSources(): Sources & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    profiles: (dir) => {
      asked.push(`profiles ${dir ?? '(in effect)'}`);
      return SAVED[dir ?? ''] ?? [];
    },
    executables: (prefix) => {
      asked.push(`executables ${prefix}`);
      return ['echo', 'ed', 'env'].filter((name) => name.startsWith(prefix));
    },
  };
}

/** `kash <line>`, the last word being the one under the cursor: `kash otp c` completes `c`. */
function ask(line: string, on?: Command, sources: Sources = fakeSources()): Completion {
  const words = line.split(/(?<!\\) /).map((word) => word.replaceAll('\\ ', ' '));
  return complete(on ?? program(words), words.slice(0, -1), words.at(-1) ?? '', sources);
}
const values = (line: string, on?: Command) => ask(line, on).candidates.map((c) => c.value);

const COMMANDS = ['login', 'otp', 'switch', 'logout', 'shops', 'whoami', 'env', 'exec', 'api', 'completion', 'help'];
const GLOBALS = [
  '--profile',
  '--base-url',
  '--config-dir',
  '--timeout',
  '--json',
  '--no-input',
  '--verbose',
  '--no-color',
];
const NO_FILES = Directive.noFiles;

describe('complete(): what is offered, by the words before it', () => {
  it.each<[line: string, candidates: string[], directive: number]>([
    // Subcommands, as commander has them (hidden ones and __complete are not commands of it).
    ['', COMMANDS, NO_FILES],
    ['lo', ['login', 'logout'], NO_FILES],
    ['otp ', ['request', 'consume', 'help'], NO_FILES],
    ['otp c', ['consume'], NO_FILES],
    ['otp -h ', ['request', 'consume', 'help'], NO_FILES],
    ['__', [], NO_FILES],
    // Commander's help command takes the name of another command, not its own.
    ['help ', COMMANDS.filter((c) => c !== 'help'), NO_FILES],
    ['otp help ', ['request', 'consume'], NO_FILES],
    ['help otp ', [], NO_FILES],
    // Values of options: --format (the env formats), commander's choices, free text.
    ['env --format ', [...ENV_FORMATS], NO_FILES],
    ['login --no-save --format p', ['powershell'], NO_FILES],
    ['otp consume --format d', ['dotenv'], NO_FILES],
    ['env --format=j', ['json'], NO_FILES],
    ['env --prefix ', [], NO_FILES],
    ['otp consume --otp ', [], NO_FILES],
    ['login --login l', [], NO_FILES],
    ['completion ', [...SHELLS], NO_FILES],
    ['completion z', ['zsh'], NO_FILES],
    ['completion zsh ', [], NO_FILES],
    // An option's value is never read as a command; a flag takes none (login --otp, otp consume --otp <code>).
    ['--profile otp ', COMMANDS, NO_FILES],
    ['--timeout 5 otp c', ['consume'], NO_FILES],
    ['login --otp --f', ['--format'], NO_FILES],
    ['otp consume --otp login --f', ['--format'], NO_FILES],
    ['--json=x', [], NO_FILES],
    // Saved profiles, of the folder in effect or of --config-dir among the words, before or after the command.
    ['--profile ', ['default', 'staging.eu', 'work-2'], NO_FILES],
    ['whoami --profile w', ['work-2'], NO_FILES],
    ['whoami --profile=w', ['work-2'], NO_FILES],
    ['--config-dir /other\\ store whoami --profile ', ['elsewhere'], NO_FILES],
    ['--config-dir=/other\\ store whoami --profile ', ['elsewhere'], NO_FILES],
    ['env --profile x --config-dir /other\\ store --profile ', ['elsewhere'], NO_FILES],
    // Folders only, for --config-dir.
    ['--config-dir ', [], Directive.foldersOnly],
    ['whoami --config-dir=/tm', [], Directive.foldersOnly],
    // After `exec --`: a command line of its own, the program from PATH, then files.
    ['exec -- e', ['echo', 'ed', 'env'], NO_FILES],
    ['exec -- ech', ['echo'], NO_FILES],
    ['exec ech', ['echo'], NO_FILES],
    ['exec -- ./my-scr', [], 0],
    ['exec -- echo ', [], 0],
    ['exec -- echo --pro', [], 0],
    ['exec --prefix P_ -- echo a ', [], 0],
    ['exec -- --', [], NO_FILES],
    ['exec --pre', ['--prefix'], NO_FILES],
  ])('kash %s<TAB>: %j, directive %i', (line, candidates, directive) => {
    expect(ask(line)).toEqual({ candidates: expect.any(Array), directive });
    expect(values(line)).toEqual(candidates);
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
  ])('kash %s -<TAB>: its own options, the help option (-h too) and every global option', (path, own) => {
    const offered = values(`${path} -`);
    expect(offered).toEqual(expect.arrayContaining([...own, '--help', '-h', ...GLOBALS]));
    const others = ['--all', '--prefix', '--login', '--account-id', '--title', '--otp'].filter((o) => !own.includes(o));
    for (const other of others) expect(offered).not.toContain(other);
    expect(values(`${path} --`)).not.toContain('-h');
  });

  it('describes commands and options, as their help does', () => {
    const login = ask('l').candidates.find((c) => c.value === 'login');
    expect(login?.description).toMatch(/^log in/);
    expect(ask('env --f').candidates).toEqual([{ value: '--format', description: expect.stringMatching(/sh, fish/) }]);
  });

  it('asks the machine only what the words call for', () => {
    const sources = fakeSources();
    for (const line of ['', 'login --', 'env --format ', 'completion ', '--config-dir ', 'exec -- echo '])
      ask(line, program(), sources);
    expect(sources.asked).toEqual([]);
    ask('--config-dir /a --config-dir /b --profile ', program(), sources);
    ask('exec -- ec', program(), sources);
    expect(sources.asked).toEqual(['profiles /b', 'executables ec']);
  });

  it('follows the program as it changes: new commands, options, choices and aliases; hidden ones stay out', () => {
    const changed = program();
    changed.addCommand(
      new Command('report')
        .alias('rp')
        .description('a new command')
        .option('--since <date>', 'from when')
        .addOption(new Option('--level <level>', 'how much').choices(['low', 'high']))
        .addOption(new Option('--secret-switch', 'not for people').hideHelp()),
    );
    changed.addCommand(new Command('internal'), { hidden: true });
    expect(values('', changed)).toContain('report');
    expect(values('', changed)).not.toContain('internal');
    expect(values('report --', changed)).toEqual(expect.arrayContaining(['--since', '--level', '--profile']));
    expect(values('report --', changed)).not.toContain('--secret-switch');
    expect(values('rp --level ', changed)).toEqual(['low', 'high']);
    expect(values('report --since ', changed)).toEqual([]);
  });
});

describe('completeFrom(): where a command says its values come from', () => {
  // `kash switch` and `kash api` declare their own; a command of the test's declares the rest.
  const withTagged = () => {
    const tagged = program();
    tagged.addCommand(
      new Command('report')
        .addArgument(completeFrom(new Argument('<kind>'), ['daily', { value: 'weekly', description: 'every Monday' }]))
        .addOption(completeFrom(new Option('--into <dir>'), 'folders')),
    );
    return tagged;
  };
  const sales = { value: 'getSales', description: 'sales of a day, month or year (d, m, y, formatExport)' };

  it.each<[string, Completion]>([
    ['switch ', { candidates: ['default', 'staging.eu', 'work-2'].map((value) => ({ value })), directive: NO_FILES }],
    ['--config-dir /other\\ store switch e', { candidates: [{ value: 'elsewhere' }], directive: NO_FILES }],
    ['switch default ', { candidates: [], directive: NO_FILES }],
    ['api getS', { candidates: [sales], directive: NO_FILES }],
    ['api getPlus --output ', { candidates: [], directive: 0 }],
    ['api getPlus --output=', { candidates: [], directive: 0 }],
    ['api getPlus -X P', { candidates: [{ value: 'POST' }], directive: NO_FILES }],
    [
      'report ',
      { candidates: [{ value: 'daily' }, { value: 'weekly', description: 'every Monday' }], directive: NO_FILES },
    ],
    ['report daily --into ', { candidates: [], directive: Directive.foldersOnly }],
  ])('kash %s<TAB>', (line, expected) => {
    expect(ask(line, withTagged())).toEqual(expected);
  });

  it('kash api <TAB>: every documented endpoint, reads and writes', () => {
    const offered = values('api ');
    expect(offered).toEqual(
      expect.arrayContaining([
        'getPaymentModes',
        'getSales',
        'getOrders',
        'webapp',
        'editOrder',
        'addClient',
        'delVat',
      ]),
    );
    expect(offered).toHaveLength(DOCUMENTED_ENDPOINTS.length);
  });
});

// ---------------------------------------------------------------------------------------------
// kash __complete

function sink(): { write(text: string): void; text: () => string } {
  let out = '';
  return { write: (text) => void (out += text), text: () => out };
}

describe('runComplete: the answer the scripts read', () => {
  it('one candidate a line, its description after a tab, then the directive', () => {
    const out = sink();
    expect(runComplete(program(), ['otp', 'c'], out, {})).toBe(0);
    expect(out.text()).toMatch(/^consume\ttrade the emailed code [^\n]*\n:4\n$/);
  });

  it('an empty word under the cursor, or none at all', () => {
    const empty = sink();
    runComplete(program(), ['completion', ''], empty, {});
    expect(empty.text()).toBe('bash\nzsh\nfish\npowershell\n:4\n');
    const none = sink();
    runComplete(program(), [], none, {});
    expect(
      none
        .text()
        .split('\n')
        .slice(0, -2)
        .map((line) => line.split('\t')[0]),
    ).toEqual(COMMANDS);
  });

  it('a description holding line breaks or tabs stays on its line', () => {
    const odd = program();
    odd.addCommand(new Command('odd').description('two\nlines\tand a tab'));
    const out = sink();
    runComplete(odd, ['od'], out, {});
    expect(out.text()).toBe('odd\ttwo lines and a tab\n:4\n');
  });

  it('whatever goes wrong, it exits 0 and writes nothing', () => {
    const out = sink();
    expect(runComplete({} as Command, ['x', ''], out, {})).toBe(0);
    expect(out.text()).toBe('');
    const failing = {
      write: () => {
        throw new Error('EBADF');
      },
    };
    expect(runComplete(program(), [''], failing, {})).toBe(0);
  });

  it('is the hidden command named in the scripts', () => {
    expect(COMPLETE).toBe('__complete');
    for (const shell of SHELLS) expect(completionScript(shell)).toContain(`kash ${COMPLETE} `);
  });
});

describe('machineSources: what only this machine knows', () => {
  let dir: string;
  const store = (folder: string, content: string, mode = 0o600) => {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, 'credentials.json'), content, { mode });
  };
  const saved = {
    apiKey: 'k',
    shopId: '1',
    login: 'l',
    email: null,
    method: 'password',
    baseUrl: 'https://kash.click',
  };
  const credentials = { ...saved, obtainedAt: '2026-11-28T12:00:00.000Z', shopTitle: null };
  const profiles = (names: string[]) =>
    JSON.stringify({ version: 1, profiles: Object.fromEntries(names.map((n) => [n, { credentials }])) });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kash-complete-'));
    store(join(dir, 'env'), profiles(['zeta', 'alpha']));
    store(join(dir, 'given'), profiles(['given', '$(touch x)', 'two words', 'a'.repeat(65), 'ok.name_-1']));
    store(join(dir, 'xdg', 'kash'), profiles(['from-xdg']));
    store(join(dir, 'home', 'mine'), profiles(['at-home']));
    store(join(dir, 'corrupt'), '{"version":1,"profiles":');
    const bin = join(dir, 'bin');
    mkdirSync(join(bin, 'kash-folder'), { recursive: true });
    for (const [name, mode] of [
      ['kash-tool', 0o755],
      ['kash-data', 0o644],
      ['kash two', 0o755],
      ['other', 0o755],
    ] as const)
      writeFileSync(join(bin, name), '', { mode });
    symlinkSync(join(bin, 'kash-tool'), join(bin, 'kash-link'));
    symlinkSync(join(bin, 'nowhere'), join(bin, 'kash-dangling'));
    chmodSync(join(bin, 'kash-tool'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each<[string, string | undefined, Record<string, string>, string[]]>([
    ['--config-dir, sorted, only valid profile names', 'given', {}, ['given', 'ok.name_-1']],
    ['else KASH_CONFIG_DIR', undefined, { KASH_CONFIG_DIR: 'env' }, ['alpha', 'zeta']],
    ['--config-dir over KASH_CONFIG_DIR', 'given', { KASH_CONFIG_DIR: 'env' }, ['given', 'ok.name_-1']],
    ['else the default folder', undefined, { XDG_CONFIG_HOME: 'xdg' }, ['from-xdg']],
    ['no store', 'nowhere', {}, []],
    ['a corrupt store', 'corrupt', {}, []],
    ['a store folder that is a file', 'corrupt/credentials.json', {}, []],
  ])('profiles: %s', (_, given, env, expected) => {
    const inDir = (path: string) => join(dir, path);
    const absolute = Object.fromEntries(Object.entries(env).map(([name, path]) => [name, inDir(path)]));
    expect(machineSources(absolute).profiles(given === undefined ? undefined : inDir(given))).toEqual(expected);
  });

  it("profiles: ~ is the HOME of the run's environment, as everywhere else in kash", () => {
    expect(machineSources({ HOME: join(dir, 'home') }).profiles('~/mine')).toEqual(['at-home']);
  });

  it('profiles: a --config-dir typed as ~/… is in the home folder, as the shell would make it', () => {
    vi.stubEnv('HOME', join(dir, 'home'));
    try {
      expect(machineSources({}).profiles('~/mine')).toEqual(['at-home']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('executables: the programs on PATH with that prefix, once each, with a name a shell inserts as it is', () => {
    const env = { PATH: [join(dir, 'bin'), join(dir, 'nowhere'), '', join(dir, 'bin')].join(':') };
    expect(machineSources(env).executables('kash')).toEqual(['kash-link', 'kash-tool']);
    expect(machineSources(env).executables('o')).toEqual(['other']);
    expect(machineSources({}).executables('')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The scripts, as text

describe('completionScript', () => {
  it.each<[Shell, string]>([
    ['bash', '\ncomplete -F _kash kash\n'],
    ['zsh', 'compdef _kash kash'],
    ['fish', "\ncomplete -c kash -f -a '(__kash_complete)'\n"],
    ['powershell', "Register-ArgumentCompleter -Native -CommandName @('kash', 'kash.cmd', 'kash.ps1') -ScriptBlock {"],
  ])('%s: registers itself for the program: %j', (shell, fragment) => {
    expect(completionScript(shell)).toContain(fragment);
  });

  it('zsh: the #compdef line comes first, so that compinit autoloads the file', () => {
    expect(completionScript('zsh').startsWith('#compdef kash\n')).toBe(true);
  });

  it.each(SHELLS)('%s: the header says how to install it', (shell) => {
    for (const [commandLine, where] of INSTALL[shell])
      expect(completionScript(shell)).toContain(`#   ${where}:\n#     ${commandLine}\n`);
  });

  it.each<[Shell, string]>([
    ['bash', 'source <(kash completion bash)'],
    ['zsh', 'kash completion zsh > "${fpath[1]}/_kash"'],
    ['zsh', 'source <(kash completion zsh)'],
    ['fish', 'kash completion fish > ~/.config/fish/completions/kash.fish'],
    ['powershell', 'kash completion powershell | Out-String | Invoke-Expression'],
  ])('%s is installed with: %s', (shell, commandLine) => {
    expect(INSTALL[shell].map(([line]) => line)).toContain(commandLine);
  });

  // Thin: no command, option or value of kash is written into a script; kash says them at each TAB.
  it.each(SHELLS)('%s: holds none of the program’s knowledge', (shell) => {
    const body = completionScript(shell).replace(/^\s*#.*\n/gm, '');
    for (const word of ['login', 'whoami', 'consume', '--profile', '--config-dir', '--format', 'dotenv', 'exec'])
      expect(body).not.toContain(word);
  });

  // The directives, each read by name of its bit: 1 error, 2 no space, 4 no files, 16 folders only.
  it.each<[Shell, RegExp[]]>([
    ['bash', [/directive & 1\b/, /directive & 2\b.*nospace/, /directive & 4\b/, /directive & 16\b.*-d/]],
    ['zsh', [/directive & 1\b/, /directive & 2\b.*-S ''/, /directive & 4\b/, /directive & 16\b.*_files -\//]],
    [
      'fish',
      [/bitand\(\$directive, 1\)/, /bitand\(\$directive, 2\)/, /bitand\(\$directive, 4\)/, /bitand\(\$directive, 16\)/],
    ],
    ['powershell', [/-band 1\b/, /-band 2\b/, /-band 4\b/]],
  ])('%s: honours the directives', (shell, patterns) => {
    for (const pattern of patterns) expect(completionScript(shell)).toMatch(pattern);
  });

  it('bash: nothing newer than bash 3.2 (macOS): no mapfile, no negative subscripts', () => {
    const code = completionScript('bash').replace(/^\s*#.*\n/gm, '');
    expect(code).not.toMatch(/mapfile|readarray|\[-1\]|declare -n/);
  });

  // No PowerShell to run it here: at least every bracket it opens, it closes.
  it('powershell: braces, brackets and parentheses balance outside strings and comments', () => {
    expect(unbalanced(completionScript('powershell'))).toBeUndefined();
    expect(unbalanced(completionScript('powershell').replace(/\}\s*$/, ''))).toBeDefined();
  });

  it('powershell: hands kash the words before the cursor and an empty one as "", and adds the --option= back', () => {
    const text = completionScript('powershell');
    expect(text).toContain("$PSNativeCommandArgumentPassing = 'Legacy'");
    expect(text).toContain(`& kash __complete @words $(if ($word) { $word } else { '""' }) 2>$null`);
    expect(text).toContain('Where-Object { $_.Extent.EndOffset -lt $cursor }');
    expect(text).toContain("$prefix = if ($word -match '^-[^=]*=') { $Matches[0] } else { '' }");
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

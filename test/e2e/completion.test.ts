// `kash completion <shell>`: each script is loaded by the real shell, installed the way the
// help says, and asked to complete, with `kash` on the PATH being the built CLI.
//
// - bash: `source <(kash completion bash)`, then the completion function is called with
//   COMP_WORDS/COMP_CWORD split as bash splits them (at `=`, which is in COMP_WORDBREAKS).
// - zsh: the script saved as _kash in a folder of $fpath, compinit, then the line is typed
//   with a TAB into an interactive zsh on a pseudo-terminal (zsh/zpty), and every match
//   zsh's completion system adds is recorded (compadd wrapped, after zsh-capture-completion).
// - fish: the script saved in ~/.config/fish/completions, then `complete -C '<line>'`.
// PowerShell is not installed here: its text is checked in test/unit/completion-scripts.test.ts.
//
// Also: the hidden `kash completion profiles` that the scripts run is as light as the print
// path (no library loaded, nothing written), and says nothing when there is no store.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_FORMATS } from '../../src/output/env-format.js';
import { KASH_BIN, runKash, tempConfigDir } from '../support/run-kash.js';

const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');
const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

let dir: string;
let store: string;
let otherStore: string;
let env: Record<string, string>;

const credentials = (shopId: string) => ({
  apiKey: `completion-test-key-${shopId}`,
  shopId,
  login: 'someone',
  email: null,
  method: 'password',
  baseUrl: 'https://kash.click',
  obtainedAt: '2026-11-28T12:00:00.000Z',
  shopTitle: null,
});

function writeStore(folder: string, profiles: Record<string, unknown>): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writeFileSync(join(folder, 'credentials.json'), JSON.stringify({ version: 1, profiles }), { mode: 0o600 });
}

beforeAll(() => {
  dir = tempConfigDir();
  // `kash` on the PATH is the built CLI.
  mkdirSync(join(dir, 'bin'));
  writeFileSync(
    join(dir, 'bin', 'kash'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KASH_BIN)} "$@"\n`,
    { mode: 0o755 },
  );
  store = join(dir, 'store');
  writeStore(store, {
    default: { credentials: credentials('1') },
    'work-2': { credentials: credentials('2') },
    'staging.eu': {
      pendingCode: {
        email: 'a@example.com',
        accountId: null,
        shopTitle: null,
        baseUrl: 'https://kash.click',
        requestedAt: '2026-11-28T12:00:00.000Z',
      },
    },
  });
  otherStore = join(dir, 'other store');
  writeStore(otherStore, { elsewhere: { credentials: credentials('3') } });
  for (const sub of ['home', 'xdg-config/fish/completions', 'xdg-data', 'zsh-functions'])
    mkdirSync(join(dir, sub), { recursive: true });
  env = {
    ...cleanEnv(),
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'xdg-data'),
    KASH_CONFIG_DIR: store,
    TERM: 'xterm',
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cleanEnv(): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      /^(KASH_|CI$|NO_COLOR$|FORCE_COLOR$|HTTPS?_PROXY$|NO_PROXY$|ZDOTDIR$|BASH_ENV$|ENV$)/i.test(name)
    )
      continue;
    clean[name] = value;
  }
  return clean;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program asynchronously (never spawnSync); kills it after timeoutMs. */
function run(file: string, args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { env: { ...env, ...extraEnv }, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
const fishQuote = (word: string) => `'${word.replace(/[\\']/g, '\\$&')}'`;
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

// ---------------------------------------------------------------------------------------------
// The three shells

/** The words as bash hands them to a completion function: split at unescaped spaces, and at `=`. */
function bashWords(line: string): string[] {
  return line.split(/(?<!\\) /).flatMap((word) => {
    const at = word.indexOf('=');
    return at > 0 ? [word.slice(0, at), '=', word.slice(at + 1)] : [word];
  });
}

async function bashComplete(
  line: string,
  extraEnv: Record<string, string> = {},
): Promise<Run & { candidates: string[] }> {
  const words = bashWords(line);
  const script = [
    'source <(kash completion bash) || exit 90',
    `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${shellQuote(line)}`,
    'COMP_POINT=${#COMP_LINE}',
    // As bash calls it: the command, the word being completed, the word before it.
    `_kash kash ${shellQuote(words.at(-1)!)} ${shellQuote(words.at(-2)!)}`,
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join('\n');
  const result = await run('/usr/bin/bash', ['--norc', '--noprofile', '-c', script], extraEnv);
  return { ...result, candidates: lines(result.stdout) };
}

// Sourced by an interactive zsh on a pseudo-terminal: loads the completion system from
// $fpath and records every match added, then exits once the completion has run.
const ZSH_SETUP = `
PROMPT=''
RPROMPT=''
unsetopt beep
if [[ -n $KC_SOURCE ]]; then
    autoload -Uz compinit && compinit -u -D
    source <(kash completion zsh)
else
    fpath=($KC_FPATH $fpath)
    autoload -Uz compinit && compinit -u -D
fi
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
    # Calls that only ask (-O, -A, -D) add nothing.
    if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
        builtin compadd "$@"
        return
    fi
    local -a __kc_hits
    builtin compadd -A __kc_hits "$@"
    local hit
    for hit in $__kc_hits; do print -r -- "<<match>>$hit"; done
    builtin compadd "$@"
}
__kc_done() { print -r -- "<<done>>"; exit }
comppostfuncs=(__kc_done)
print -r -- "<<ready>>"
`;

// Run by zsh -f: starts the interactive zsh, waits for it, types the line and a TAB, prints the matches.
const ZSH_HARNESS = `
zmodload zsh/zpty || exit 91
zpty kc zsh -f -i
zpty -w kc "source \${(q)1}"
out=''
integer deadline=$(( SECONDS + 15 ))
await() {
    local chunk
    while (( SECONDS < deadline )); do
        if zpty -r -t kc chunk; then
            out+=$chunk
            [[ $out == *"$1"* ]] && return 0
        else
            sleep 0.02
        fi
    done
    return 1
}
await '<<ready>>' || { print -ru2 -- "zsh did not start: $out"; exit 92 }
out=''
zpty -w -n kc "$2"$'\\t'
await '<<done>>' || { print -ru2 -- "the completion did not run: $out"; exit 93 }
nl=$'\\n'
print -r -- "\${out//<<match>>/$nl<<match>>}" | tr -d '\\r' | sed -n 's/^<<match>>//p'
zpty -d kc
`;

let zshFiles: { setup: string; harness: string } | undefined;
async function zshComplete(
  line: string,
  extraEnv: Record<string, string> = {},
): Promise<Run & { candidates: string[] }> {
  if (!zshFiles) {
    // Installed as the help says: kash completion zsh > "${fpath[1]}/_kash"
    const install = await run(
      '/usr/bin/zsh',
      ['-f', '-c', 'fpath=($KC_FPATH $fpath); kash completion zsh > "${fpath[1]}/_kash"'],
      {
        KC_FPATH: join(dir, 'zsh-functions'),
      },
    );
    expect(install).toMatchObject({ code: 0, stderr: '' });
    zshFiles = { setup: join(dir, 'zsh-setup.zsh'), harness: join(dir, 'zsh-harness.zsh') };
    writeFileSync(zshFiles.setup, ZSH_SETUP);
    writeFileSync(zshFiles.harness, ZSH_HARNESS);
  }
  const result = await run('/usr/bin/zsh', ['-f', zshFiles.harness, zshFiles.setup, line], {
    KC_FPATH: join(dir, 'zsh-functions'),
    ...extraEnv,
  });
  // The same match may be added twice (once per tag); the candidates are a set.
  return { ...result, candidates: [...new Set(lines(result.stdout))] };
}

let fishInstalled = false;
async function fishComplete(
  line: string,
  extraEnv: Record<string, string> = {},
): Promise<Run & { candidates: string[] }> {
  if (!fishInstalled) {
    // Installed as the help says: kash completion fish > ~/.config/fish/completions/kash.fish
    // (~/.config being $XDG_CONFIG_HOME here).
    const install = await run('/usr/bin/fish', [
      '-c',
      'kash completion fish > $XDG_CONFIG_HOME/fish/completions/kash.fish',
    ]);
    expect(install).toMatchObject({ code: 0, stderr: '' });
    fishInstalled = true;
  }
  const result = await run('/usr/bin/fish', ['-c', `complete -C ${fishQuote(line)}`], extraEnv);
  // Each candidate is "word<TAB>description".
  return { ...result, candidates: lines(result.stdout).map((candidate) => candidate.split('\t')[0]!) };
}

const complete = { bash: bashComplete, zsh: zshComplete, fish: fishComplete };

// ---------------------------------------------------------------------------------------------

const COMMANDS = ['login', 'otp', 'whoami', 'env', 'exec', 'logout', 'shops', 'completion'];
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
const PROFILES = ['default', 'staging.eu', 'work-2'];

describe.each(SHELLS)('%s', (shell: Shell) => {
  const ask = (line: string, extraEnv?: Record<string, string>) => complete[shell](line, extraEnv);
  const sorted = (words: string[]) => [...words].sort();

  it('kash <TAB>: the top-level commands, not the hidden one', async () => {
    const { candidates, stderr } = await ask('kash ');
    expect(candidates).toEqual(expect.arrayContaining([...COMMANDS, 'help']));
    expect(candidates).not.toContain('profiles');
    // Command names only: no file names, no options.
    expect(candidates.filter((c) => !/^[a-z][a-z-]*$/.test(c))).toEqual([]);
    expect(stderr).toBe('');
  });

  it('kash lo<TAB>: login and logout', async () => {
    expect(sorted((await ask('kash lo')).candidates)).toEqual(['login', 'logout']);
  });

  it('kash otp <TAB>: its subcommands', async () => {
    expect(sorted((await ask('kash otp ')).candidates)).toEqual(['consume', 'help', 'request']);
  });

  it('kash otp c<TAB>: consume', async () => {
    expect((await ask('kash otp c')).candidates).toEqual(['consume']);
  });

  it('kash login --<TAB>: the options of login and the global options, not those of other commands', async () => {
    const { candidates } = await ask('kash login --');
    expect(candidates).toEqual(
      expect.arrayContaining([
        '--login',
        '--password-stdin',
        '--otp',
        '--email',
        '--account-id',
        '--no-save',
        '--format',
        '--help',
        ...GLOBALS,
      ]),
    );
    expect(candidates).not.toContain('--all');
    expect(candidates).not.toContain('--prefix');
  });

  it('kash otp consume --<TAB>: its options', async () => {
    const { candidates } = await ask('kash otp consume --');
    expect(candidates).toEqual(expect.arrayContaining(['--email', '--otp', '--no-save', '--format', '--profile']));
    expect(candidates).not.toContain('--account-id');
  });

  it('kash env --format <TAB>: the env formats', async () => {
    expect(sorted((await ask('kash env --format ')).candidates)).toEqual(sorted([...ENV_FORMATS]));
  });

  it('kash login --no-save --format p<TAB>: powershell', async () => {
    expect((await ask('kash login --no-save --format p')).candidates).toEqual(['powershell']);
  });

  it('kash env --format=j<TAB>: json', async () => {
    // fish offers the whole word; bash and zsh the part after the =.
    expect((await ask('kash env --format=j')).candidates).toEqual([shell === 'fish' ? '--format=json' : 'json']);
  });

  it('kash otp consume --otp <TAB>: a value of --otp is no command (login --otp takes none)', async () => {
    const consume = await ask('kash otp consume --otp ');
    expect(consume.candidates).not.toContain('request');
    expect(consume.candidates).not.toContain('--format');
    const login = await ask('kash login --otp --f');
    expect(login.candidates).toEqual(['--format']);
  });

  it('kash --profile otp <TAB>: the value of a global option is not read as a command', async () => {
    const { candidates } = await ask('kash --profile otp ');
    expect(candidates).toEqual(expect.arrayContaining(['login', 'whoami']));
    expect(candidates).not.toContain('request');
  });

  it('kash --profile <TAB>: the saved profiles of KASH_CONFIG_DIR', async () => {
    const { candidates, stderr } = await ask('kash --profile ');
    expect(sorted(candidates)).toEqual(PROFILES);
    expect(stderr).toBe('');
  });

  it('kash whoami --profile w<TAB>: work-2', async () => {
    expect((await ask('kash whoami --profile w')).candidates).toEqual(['work-2']);
  });

  it('kash --config-dir <dir> whoami --profile <TAB>: the profiles of that folder', async () => {
    // The folder's name holds a space, typed escaped as a person would.
    const { candidates } = await ask(`kash --config-dir ${otherStore.replaceAll(' ', '\\ ')} whoami --profile `);
    expect(candidates).toEqual(['elsewhere']);
  });

  it('kash --profile <TAB> with no store, or a corrupt one: nothing, and no error in the prompt', async () => {
    const none = await ask('kash --profile ', { KASH_CONFIG_DIR: join(dir, 'nowhere') });
    expect(none.candidates).toEqual([]);
    expect(none.stderr).toBe('');
    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt, { recursive: true, mode: 0o700 });
    writeFileSync(join(corrupt, 'credentials.json'), '{"version":1,"profiles":', { mode: 0o600 });
    const broken = await ask('kash --profile ', { KASH_CONFIG_DIR: corrupt });
    expect(broken.candidates).toEqual([]);
    expect(broken.stderr).toBe('');
  });

  it('kash completion <TAB>: the shells', async () => {
    expect(sorted((await ask('kash completion ')).candidates)).toEqual(['bash', 'fish', 'powershell', 'zsh']);
  });

  it('kash exec -- ech<TAB>: a command line of its own', async () => {
    expect((await ask('kash exec -- ech')).candidates).toContain('echo');
  });
});

describe('zsh, with the script sourced after compinit (the other install)', () => {
  it('completes commands and profiles', async () => {
    expect((await zshComplete('kash otp c', { KC_SOURCE: '1' })).candidates).toEqual(['consume']);
    expect([...(await zshComplete('kash --profile ', { KC_SOURCE: '1' })).candidates].sort()).toEqual(PROFILES);
  });
});

describe('the scripts as text, in the real shells', () => {
  it.each<[Shell, string[]]>([
    ['bash', ['/usr/bin/bash', '-n']],
    ['zsh', ['/usr/bin/zsh', '-n']],
    ['fish', ['/usr/bin/fish', '--no-execute']],
  ])('%s parses it', async (shell, [file, flag]) => {
    const script = join(dir, `syntax.${shell}`);
    writeFileSync(script, (await runKash(['completion', shell])).stdout);
    expect(readFileSync(script, 'utf8').length).toBeGreaterThan(500);
    expect(await run(file!, [flag!, script])).toMatchObject({ code: 0, stderr: '' });
    // The check sees a broken script.
    writeFileSync(script, `${readFileSync(script, 'utf8')}\nif true; then\n`);
    expect((await run(file!, [flag!, script])).code).not.toBe(0);
  });

  it('bash registers the function for kash', async () => {
    const result = await run('/usr/bin/bash', [
      '--norc',
      '--noprofile',
      '-c',
      'source <(kash completion bash); complete -p kash',
    ]);
    expect(result.stdout.trim()).toBe('complete -F _kash kash');
  });
});

describe('kash completion', () => {
  it('an unknown shell is exit 2, naming the valid ones', async () => {
    const result = await runKash(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/bash, zsh, fish, powershell/);
  });

  it('no shell is exit 2', async () => {
    const result = await runKash(['completion']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/shell/);
  });

  it('--help says how to install each script', async () => {
    const { code, stdout } = await runKash(['completion', '--help']);
    expect(code).toBe(0);
    for (const line of [
      'source <(kash completion bash)',
      'kash completion zsh > "${fpath[1]}/_kash"',
      'kash completion fish > ~/.config/fish/completions/kash.fish',
      'kash completion powershell | Out-String | Invoke-Expression',
    ]) {
      expect(stdout).toContain(line);
    }
    expect(stdout).toMatch(/~\/\.bashrc/);
    expect(stdout).toMatch(/\$PROFILE/);
    // The hidden command stays hidden.
    expect(stdout).not.toMatch(/^\s+profiles\b/m);
  });

  it('powershell: prints its script', async () => {
    const { code, stdout } = await runKash(['completion', 'powershell']);
    expect(code).toBe(0);
    expect(stdout).toContain('Register-ArgumentCompleter -Native -CommandName');
  });
});

// ---------------------------------------------------------------------------------------------
// The hidden profiles command: as light as whoami

interface Event {
  kind: 'module' | 'fetch' | 'process' | 'connect' | 'write';
  detail: string;
}

let traces = 0;
async function traced(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number | null; events: Event[] }> {
  const trace = join(dir, `trace-${traces++}.jsonl`);
  writeFileSync(trace, '');
  const result = await runKash(args, {
    nodeArgs: ['--require', TRACER],
    env: { KASH_CONFIG_DIR: store, KASH_TRACE: trace, ...extraEnv },
  });
  const events = readFileSync(trace, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);
  return { ...result, events };
}
const libraries = (events: Event[]) =>
  events.filter((e) => e.kind === 'module' && /\/dist\/lib\//.test(e.detail)).map((e) => e.detail);
const effects = (events: Event[]) => events.filter((e) => e.kind !== 'module');

describe('kash completion profiles (hidden)', () => {
  it('prints the saved profile names, loading no library, writing nothing, starting and connecting nothing', async () => {
    const { code, stdout, stderr, events } = await traced(['completion', 'profiles']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${PROFILES.join('\n')}\n`);
    expect(stderr).toBe('');
    expect(libraries(events)).toEqual([]);
    expect(effects(events)).toEqual([]);
  });

  it('honours --config-dir over KASH_CONFIG_DIR', async () => {
    const { code, stdout, events } = await traced(['completion', 'profiles', '--config-dir', otherStore]);
    expect(code).toBe(0);
    expect(stdout).toBe('elsewhere\n');
    expect(effects(events)).toEqual([]);
  });

  it.each<[string, () => string]>([
    ['no store', () => join(dir, 'nowhere')],
    [
      'a corrupt store',
      () => {
        const corrupt = join(dir, 'corrupt-traced');
        mkdirSync(corrupt, { recursive: true, mode: 0o700 });
        writeFileSync(join(corrupt, 'credentials.json'), 'not json', { mode: 0o600 });
        return corrupt;
      },
    ],
    [
      'a store folder that is a file',
      () => {
        writeFileSync(join(dir, 'a-file'), '');
        return join(dir, 'a-file');
      },
    ],
  ])('with %s: exit 0, nothing on stdout or stderr, nothing written', async (_, folder) => {
    const { code, stdout, stderr, events } = await traced(['completion', 'profiles'], { KASH_CONFIG_DIR: folder() });
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(effects(events)).toEqual([]);
    expect(libraries(events)).toEqual([]);
  });

  it('with a bad KASH_PROFILE or KASH_TIMEOUT: exit 0 and silent, not a usage error in the prompt', async () => {
    const { code, stdout, stderr } = await traced(['completion', 'profiles'], { KASH_PROFILE: 'no spaces' });
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    // The same variable does stop an ordinary command, so the silence above is the command's doing.
    expect((await runKash(['whoami'], { env: { KASH_CONFIG_DIR: store, KASH_PROFILE: 'no spaces' } })).code).toBe(2);
  });

  it('the script itself loads only its own generator, and touches nothing', async () => {
    const { code, events } = await traced(['completion', 'bash']);
    expect(code).toBe(0);
    expect(libraries(events).map((path) => path.replace(/^.*\/dist\//, 'dist/'))).toEqual([
      'dist/lib/completion-scripts.js',
    ]);
    expect(effects(events)).toEqual([]);
  });

  // Without these, a tracer that records nothing would pass the tests above.
  it('the tracer sees a library: with colour forced, the same command loads chalk', async () => {
    const { code, events } = await traced(['completion', 'profiles'], { FORCE_COLOR: '1' });
    expect(code).toBe(0);
    expect(libraries(events).map((path) => path.replace(/^.*\/dist\//, 'dist/'))).toEqual(['dist/lib/chalk.js']);
  });

  it('the tracer sees a write: logout rewrites the store', async () => {
    const copy = join(dir, 'logout-store');
    writeStore(copy, { default: { credentials: credentials('9') } });
    const { code, events } = await traced(['logout'], { KASH_CONFIG_DIR: copy });
    expect(code).toBe(0);
    expect(events.some((e) => e.kind === 'write' && e.detail.includes(copy))).toBe(true);
  });
});

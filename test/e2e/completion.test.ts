// `kash completion <shell>`: each script is loaded by the real shell, installed the way the
// help says, and asked to complete, with `kash` on the PATH being the built CLI. What is offered
// is tested once, by tables, in test/unit/completion.test.ts; here, one case per kind of behaviour
// shows that each script hands the words to `kash __complete` and shows its answer as it must.
//
// - bash: the script sourced (as `source <(kash completion bash)` does, but printed once for all
//   the cases), then the completion function is called with
//   COMP_WORDS/COMP_CWORD split as bash splits them (at `=`, which is in COMP_WORDBREAKS);
//   compopt, which only works inside a real completion, is replaced by one that says what it was asked.
// - zsh: the script saved as _kash in a folder of $fpath, compinit, then the line is typed
//   with a TAB into an interactive zsh on a pseudo-terminal (zsh/zpty), and every match
//   zsh's completion system adds is recorded (compadd wrapped, after zsh-capture-completion).
// - fish: the script saved in ~/.config/fish/completions, then `complete -C '<line>'`.
// PowerShell is not installed here: its text is checked in test/unit/completion.test.ts.
//
// The directives are also checked against a stand-in `kash` that gives a set answer. And the
// hidden `kash __complete` is as light as the print path: no library loaded, nothing written.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../support/requires.js';
import { KASH_BIN, runKash, tempConfigDir } from '../support/run-kash.js';

const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');
const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

let dir: string;
let store: string;
let otherStore: string;
let work: string;
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

function writeStore(folder: string, profiles: Record<string, unknown>, modes = { folder: 0o700, file: 0o600 }): void {
  mkdirSync(folder, { recursive: true, mode: modes.folder });
  writeFileSync(join(folder, 'credentials.json'), JSON.stringify({ version: 1, profiles }), { mode: modes.file });
  chmodSync(folder, modes.folder);
  chmodSync(join(folder, 'credentials.json'), modes.file);
}

beforeAll(() => {
  dir = tempConfigDir();
  // `kash` on the PATH is the built CLI; the stand-in, on a PATH of its own, answers $KC_ANSWER.
  mkdirSync(join(dir, 'bin'));
  writeFileSync(
    join(dir, 'bin', 'kash'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KASH_BIN)} "$@"\n`,
    { mode: 0o755 },
  );
  mkdirSync(join(dir, 'stand-in'));
  writeFileSync(
    join(dir, 'stand-in', 'kash'),
    `#!/bin/sh\n[ "$1" = __complete ] && { printf '%b' "$KC_ANSWER"; exit 0; }\nexec ${JSON.stringify(join(dir, 'bin', 'kash'))} "$@"\n`,
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
  // Where the shells complete file names: one file, one folder.
  work = join(dir, 'work');
  mkdirSync(join(work, 'a-folder'), { recursive: true });
  writeFileSync(join(work, 'a-file.txt'), '');
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

/** Runs a program asynchronously (never spawnSync), in the work folder; kills it after timeoutMs. */
function run(file: string, args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { env: { ...env, ...extraEnv }, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** What a shell offered, and whatever else it was asked to do (compopt in bash, compadd's options in zsh). */
type Offered = Run & { candidates: string[]; asked: string[] };

// ---------------------------------------------------------------------------------------------
// The three shells

/** The words as bash hands them to a completion function: split at unescaped spaces, and at `=`. */
function bashWords(line: string): string[] {
  return line.split(/(?<!\\) /).flatMap((word) => {
    const at = word.indexOf('=');
    return at > 0 ? [word.slice(0, at), '=', word.slice(at + 1)] : [word];
  });
}

async function bashComplete(line: string, extraEnv: Record<string, string> = {}): Promise<Offered> {
  const words = bashWords(line);
  const script = [
    `source ${shellQuote(join(dir, 'kash.bash'))} || exit 90`,
    `compopt() { printf '<<compopt>>%s\\n' "$*"; }`,
    `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${shellQuote(line)}`,
    'COMP_POINT=${#COMP_LINE}',
    // As bash calls it: the command, the word being completed (after an =), the word before it.
    `_kash kash ${shellQuote(words.at(-1) === '=' ? '' : words.at(-1)!)} ${shellQuote(words.at(-2)!)}`,
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join('\n');
  const result = await run('/usr/bin/bash', ['--norc', '--noprofile', '-c', script], extraEnv);
  const all = lines(result.stdout);
  return {
    ...result,
    candidates: all.filter((l) => !l.startsWith('<<compopt>>')),
    asked: all.filter((l) => l.startsWith('<<compopt>>')).map((l) => l.slice('<<compopt>>'.length)),
  };
}

// Sourced by an interactive zsh on a pseudo-terminal: loads the completion system from
// $fpath and records every match added (and the options it was added with), then exits
// once the completion has run.
const ZSH_SETUP = `
PROMPT=''
RPROMPT=''
unsetopt beep
if [[ -n $KC_SOURCE ]]; then
    autoload -Uz compinit && compinit -u -D
    source <(kash completion zsh)
else
    # From the dump that the install made: it found _kash in $fpath.
    fpath=($KC_FPATH $fpath)
    autoload -Uz compinit && compinit -u -C -d $KC_DUMP
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
    print -r -- "<<args>>\${(j: :)\${(q)@}}"
    for hit in $__kc_hits; do print -r -- "<<match>>$hit"; done
    builtin compadd "$@"
}
__kc_done() { print -r -- "<<done>>"; exit }
comppostfuncs=(__kc_done)
print -r -- "<<ready>>"
`;

// Run by zsh -f: starts the interactive zsh, waits for it, types the line and a TAB, prints what was recorded.
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
out=\${out//<<match>>/$nl<<match>>}
print -r -- "\${out//<<args>>/$nl<<args>>}" | tr -d '\\r' | grep -a '^<<[am][ar][gt]'
zpty -d kc
`;

let zshFiles: { setup: string; harness: string } | undefined;
async function zshComplete(line: string, extraEnv: Record<string, string> = {}): Promise<Offered> {
  if (!zshFiles) throw new Error('zsh is not set up');
  const result = await run('/usr/bin/zsh', ['-f', zshFiles.harness, zshFiles.setup, line], {
    KC_FPATH: join(dir, 'zsh-functions'),
    KC_DUMP: join(dir, 'zcompdump'),
    ...extraEnv,
  });
  const all = lines(result.stdout);
  const tagged = (tag: string) => all.filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length));
  // The same match may be added twice (once per tag); the candidates are a set.
  return { ...result, candidates: [...new Set(tagged('<<match>>'))], asked: tagged('<<args>>') };
}

async function fishComplete(line: string, extraEnv: Record<string, string> = {}): Promise<Offered> {
  const result = await run('/usr/bin/fish', ['-c', `complete -C ${fishQuote(line)}`], extraEnv);
  // Each candidate is "word<TAB>description".
  return { ...result, candidates: lines(result.stdout).map((candidate) => candidate.split('\t')[0]!), asked: [] };
}

const complete = { bash: bashComplete, zsh: zshComplete, fish: fishComplete };

/** Installs each script as the help says. */
async function install(shell: Shell): Promise<void> {
  if (shell === 'zsh') {
    // kash completion zsh > "${fpath[1]}/_kash", then a new shell's compinit finds it.
    const script = 'fpath=($KC_FPATH $fpath); kash completion zsh > "${fpath[1]}/_kash"; autoload -Uz compinit';
    const installed = await run('/usr/bin/zsh', ['-f', '-c', `${script}; compinit -u -d $KC_DUMP`], {
      KC_FPATH: join(dir, 'zsh-functions'),
      KC_DUMP: join(dir, 'zcompdump'),
    });
    expect(installed).toMatchObject({ code: 0, stderr: '' });
    zshFiles = { setup: join(dir, 'zsh-setup.zsh'), harness: join(dir, 'zsh-harness.zsh') };
    writeFileSync(zshFiles.setup, ZSH_SETUP);
    writeFileSync(zshFiles.harness, ZSH_HARNESS);
  } else if (shell === 'bash') {
    writeFileSync(join(dir, 'kash.bash'), (await runKash(['completion', 'bash'])).stdout);
  } else if (shell === 'fish') {
    // kash completion fish > ~/.config/fish/completions/kash.fish (~/.config being $XDG_CONFIG_HOME here)
    const installed = await run('/usr/bin/fish', [
      '-c',
      'kash completion fish > $XDG_CONFIG_HOME/fish/completions/kash.fish',
    ]);
    expect(installed).toMatchObject({ code: 0, stderr: '' });
  }
}

// ---------------------------------------------------------------------------------------------

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
const PROFILES = ['default', 'staging.eu', 'work-2'];
const sorted = (words: string[]) => [...words].sort();

for (const shell of SHELLS) {
  requires(shell).describe(shell, { concurrent: true }, () => {
    const ask = (line: string, extraEnv?: Record<string, string>) => complete[shell](line, extraEnv);
    const standIn = (answer: string) => ({ PATH: `${join(dir, 'stand-in')}:${env.PATH}`, KC_ANSWER: answer });
    beforeAll(() => install(shell));

    it('kash <TAB>: the commands, and nothing else (no file names, no options)', async () => {
      const { candidates, stderr } = await ask('kash ');
      expect(sorted(candidates)).toEqual(sorted(COMMANDS));
      expect(stderr).toBe('');
    });

    it('kash login --<TAB>: the options of login and the global options, not those of other commands', async () => {
      const { candidates } = await ask('kash login --');
      expect(candidates).toEqual(expect.arrayContaining(['--login', '--otp', '--no-save', '--help', ...GLOBALS]));
      expect(candidates).not.toContain('--all');
      expect(candidates).not.toContain('--prefix');
    });

    it('kash env --format=j<TAB>: an option value, given after an =', async () => {
      // fish offers the whole word; bash and zsh the part after the =.
      expect((await ask('kash env --format=j')).candidates).toEqual([shell === 'fish' ? '--format=json' : 'json']);
    });

    it('kash --profile otp <TAB>: the value of an option is not read as a command', async () => {
      expect(sorted((await ask('kash --profile otp ')).candidates)).toEqual(sorted(COMMANDS));
    });

    it('kash --profile <TAB>: the saved profiles of KASH_CONFIG_DIR, and of a --config-dir typed before', async () => {
      const { candidates, stderr } = await ask('kash --profile ');
      expect(sorted(candidates)).toEqual(PROFILES);
      expect(stderr).toBe('');
      // The folder's name holds a space, typed escaped as a person would.
      const other = await ask(`kash --config-dir ${otherStore.replaceAll(' ', '\\ ')} whoami --profile `);
      expect(other.candidates).toEqual(['elsewhere']);
    });

    it('kash --profile <TAB> with a corrupt store: nothing, and no error in the prompt', async () => {
      const corrupt = join(dir, 'corrupt');
      mkdirSync(corrupt, { recursive: true, mode: 0o700 });
      writeFileSync(join(corrupt, 'credentials.json'), '{"version":1,"profiles":', { mode: 0o600 });
      const broken = await ask('kash --profile ', { KASH_CONFIG_DIR: corrupt });
      expect({ candidates: broken.candidates, stderr: broken.stderr }).toEqual({ candidates: [], stderr: '' });
    });

    it('kash exec -- ech<TAB>, then kash exec -- echo <TAB>: a command line of its own, then file names', async () => {
      expect((await ask('kash exec -- ech')).candidates).toContain('echo');
      const files = await ask('kash exec -- echo a');
      expect(sorted(files.candidates).map((c) => c.replace(/\/$/, ''))).toEqual(['a-file.txt', 'a-folder']);
    });

    it('kash --config-dir <TAB>: folders only', async () => {
      expect((await ask('kash --config-dir a')).candidates.map((c) => c.replace(/\/$/, ''))).toEqual(['a-folder']);
    });

    it('directive 2: no space after the one candidate', async () => {
      const { candidates, asked } = await ask('kash x f', standIn('foo\\tdescribed\\n:2\\n'));
      // fish adds no space when two matches share the text: it is given foo and foo.
      expect(candidates).toEqual(shell === 'fish' ? ['foo', 'foo.'] : ['foo']);
      if (shell === 'bash') expect(asked).toEqual(['-o nospace']);
      if (shell === 'zsh') expect(asked.join('\n')).toMatch(/ -S '' /);
      const spaced = await ask('kash x f', standIn('foo\\n:4\\n'));
      expect(spaced.candidates).toEqual(['foo']);
      if (shell === 'bash') expect(spaced.asked).toEqual([]);
      if (shell === 'zsh') expect(spaced.asked.join('\n')).not.toMatch(/ -S '' /);
    });

    it('directives 1 and 4: an error shows nothing; no file names means none, even with nothing else', async () => {
      expect((await ask('kash x f', standIn('foo\\n:1\\n'))).candidates).toEqual([]);
      expect((await ask('kash x a', standIn(':4\\n'))).candidates).toEqual([]);
      // An answer without its directive line (not kash's) is no answer.
      expect((await ask('kash x f', standIn('foo\\n'))).candidates).toEqual([]);
    });
  });
}

requires('zsh').describe('zsh, with the script sourced after compinit (the other install)', () => {
  beforeAll(() => install('zsh'));
  it('completes commands and profiles', async () => {
    expect((await zshComplete('kash otp c', { KC_SOURCE: '1' })).candidates).toEqual(['consume']);
    expect(sorted((await zshComplete('kash --profile ', { KC_SOURCE: '1' })).candidates)).toEqual(PROFILES);
  });
});

describe('the scripts as text, in the real shells', () => {
  for (const [shell, file, flag] of [
    ['bash', '/usr/bin/bash', '-n'],
    ['zsh', '/usr/bin/zsh', '-n'],
    ['fish', '/usr/bin/fish', '--no-execute'],
  ] as const) {
    requires(shell).it(`${shell} parses it`, async () => {
      const script = join(dir, `syntax.${shell}`);
      writeFileSync(script, (await runKash(['completion', shell])).stdout);
      expect(readFileSync(script, 'utf8')).toContain('kash __complete');
      expect(await run(file, [flag, script])).toMatchObject({ code: 0, stderr: '' });
      // The check sees a broken script.
      writeFileSync(script, `${readFileSync(script, 'utf8')}\nif true; then\n`);
      expect((await run(file, [flag, script])).code).not.toBe(0);
    });
  }

  requires('bash').it('bash registers the function for kash', async () => {
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

  it('--help says how to install each script; the hidden __complete appears in no help', async () => {
    const { code, stdout } = await runKash(['completion', '--help']);
    expect(code).toBe(0);
    for (const line of [
      'source <(kash completion bash)',
      'kash completion zsh > "${fpath[1]}/_kash"',
      'source <(kash completion zsh)',
      'kash completion fish > ~/.config/fish/completions/kash.fish',
      'kash completion powershell | Out-String | Invoke-Expression',
    ]) {
      expect(stdout).toContain(line);
    }
    expect(stdout).toMatch(/~\/\.bashrc/);
    expect(stdout).toMatch(/\$PROFILE/);
    for (const args of [['completion', '--help'], ['--help'], ['help']])
      expect((await runKash(args)).stdout).not.toContain('__complete');
  });

  it('powershell: prints its script', async () => {
    const { code, stdout } = await runKash(['completion', 'powershell']);
    expect(code).toBe(0);
    expect(stdout).toContain('Register-ArgumentCompleter -Native -CommandName');
  });
});

// ---------------------------------------------------------------------------------------------
// The hidden __complete: as light as whoami, silent and harmless whatever the environment holds

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

describe('kash __complete (hidden)', () => {
  // The code cache grows once for each kind of run (its first word): warmed here, so that
  // a write the traced runs make is theirs.
  beforeAll(async () => {
    for (const args of [['__complete', '--profile', ''], ['completion', 'bash'], ['whoami'], ['logout', '--help']]) {
      expect((await runKash(args, { env: { KASH_CONFIG_DIR: store } })).code).toBe(0);
    }
  });

  it('prints the saved profiles, loading no library, writing nothing, starting and connecting nothing', async () => {
    const { code, stdout, stderr, events } = await traced(['__complete', '--profile', '']);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${PROFILES.join('\n')}\n:4\n`, stderr: '' });
    expect(libraries(events)).toEqual([]);
    expect(effects(events)).toEqual([]);
  });

  it('reads the program options among the words, not as its own: --config-dir over KASH_CONFIG_DIR', async () => {
    const { code, stdout, events } = await traced(['__complete', '--config-dir', otherStore, '--profile', '']);
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'elsewhere\n:4\n' });
    expect(effects(events)).toEqual([]);
    expect((await traced(['__complete', '--help', ''])).stdout).toMatch(/^login\t[^\n]*\n(.*\n)*:4\n$/);
  });

  it('lists the programs on PATH after exec --, touching nothing', async () => {
    const { code, stdout, events } = await traced(['__complete', 'exec', '--', 'ech']);
    expect(code).toBe(0);
    expect(lines(stdout)).toContain('echo');
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
  ])('with %s: exit 0, nothing offered, nothing on stderr, nothing written', async (_, folder) => {
    const { code, stdout, stderr, events } = await traced(['__complete', '--profile', ''], {
      KASH_CONFIG_DIR: folder(),
    });
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: ':4\n', stderr: '' });
    expect(effects(events)).toEqual([]);
    expect(libraries(events)).toEqual([]);
  });

  it('with a store others can read and write: lists it, and tightens nothing (no chmod)', async () => {
    const loose = join(dir, 'loose');
    writeStore(loose, { shared: { credentials: credentials('4') } }, { folder: 0o777, file: 0o666 });
    const { code, stdout, stderr, events } = await traced(['__complete', '--profile', ''], { KASH_CONFIG_DIR: loose });
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'shared\n:4\n', stderr: '' });
    expect(effects(events)).toEqual([]);
    expect(statSync(loose).mode & 0o777).toBe(0o777);
    expect(statSync(join(loose, 'credentials.json')).mode & 0o777).toBe(0o666);
  });

  it.each<Record<string, string>>([
    { KASH_PROFILE: 'bad/name' },
    { KASH_TIMEOUT: 'abc' },
    { KASH_BASE_URL: 'localhost:8787' },
    { KASH_CONFIG_DIR: '' },
    { KASH_DEBUG: '1', KASH_NO_INPUT: '1', KASH_STORAGE: 'nonsense' },
  ])('with %j: exit 0, an answer, and silent on stderr', async (extraEnv) => {
    const { code, stdout, stderr, events } = await traced(['__complete', 'otp', 'c'], extraEnv);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^consume\t[^\n]*\n:4\n$/);
    expect(effects(events)).toEqual([]);
  });

  it('the same variable stops an ordinary command, so the silence above is the completion’s doing', async () => {
    expect((await runKash(['whoami'], { env: { KASH_CONFIG_DIR: store, KASH_PROFILE: 'bad/name' } })).code).toBe(2);
  });

  it('the scripts themselves load no library, and touch nothing', async () => {
    for (const shell of ['bash', 'zsh', 'fish', 'powershell']) {
      const { code, events } = await traced(['completion', shell]);
      expect(code).toBe(0);
      expect(libraries(events)).toEqual([]);
      expect(effects(events)).toEqual([]);
    }
  });

  // Without these, a tracer that records nothing would pass the tests above.
  it('the tracer sees a library: with colour forced, a command loads chalk', async () => {
    const { code, events } = await traced(['whoami'], { FORCE_COLOR: '1' });
    expect(code).toBe(0);
    expect(libraries(events).map((path) => path.replace(/^.*\/dist\//, 'dist/'))).toEqual(['dist/lib/chalk.cjs']);
  });

  it('the tracer sees a write: logout rewrites the store', async () => {
    const copy = join(dir, 'logout-store');
    writeStore(copy, { default: { credentials: credentials('9') } });
    const { code, events } = await traced(['logout'], { KASH_CONFIG_DIR: copy });
    expect(code).toBe(0);
    expect(events.some((e) => e.kind === 'write' && e.detail.includes(copy))).toBe(true);
  });

  it('the tracer sees a chmod: whoami tightens a loose store file', async () => {
    const loose = join(dir, 'loose-whoami');
    writeStore(loose, { default: { credentials: credentials('5') } }, { folder: 0o700, file: 0o644 });
    const { events } = await traced(['whoami'], { KASH_CONFIG_DIR: loose });
    // Through the descriptor it read, never a path a link could redirect.
    expect(events.some((e) => e.kind === 'write' && /^fd \d+$/.test(e.detail))).toBe(true);
  });
});

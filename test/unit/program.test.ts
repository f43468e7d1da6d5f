// The program as each line builds it: in full only the commands that the line's words name
// (src/program.ts). Whatever a line can show or run must be what the whole program shows.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandsInFull } from '../../src/program.js';
import { kash, scriptIO } from '../support/fakes.js';

const build = (inFull?: (name: string) => boolean) =>
  buildProgram(
    scriptIO(),
    () => {
      throw new Error('nothing runs here');
    },
    inFull,
  );
const whole = build();
const NAMES = whole.commands.map((command) => command.name());
const byName = (program: Command, name: string) => program.commands.find((command) => command.name() === name);
/** Everything a person or commander sees of a command, its subcommands' help included. */
const shown = (command: Command | undefined): string[] =>
  command ? [command.helpInformation(), ...command.commands.flatMap(shown)] : [];

describe('commandsInFull', () => {
  it.each([
    [['env'], ['env']],
    [['--profile', 'bakery', 'login', '--otp'], ['login']],
    [['__complete', 'otp', 'c'], ['otp']],
    [
      ['exec', '--', 'kash', 'whoami'],
      ['whoami', 'exec'],
    ],
  ])('%j: only the commands it names', (words, named) => {
    const inFull = commandsInFull(words);
    expect(NAMES.filter(inFull)).toEqual(named);
  });

  it.each([
    [[]],
    [['--profile', 'bakery']],
    [['lgin']],
    [['__complete', '']],
    [['help', 'login']],
    [['login', '--help']],
    [['env', '-h']],
  ])('%j: every command, as the line may list them all', (words) => {
    expect(NAMES.filter(commandsInFull(words))).toEqual(NAMES);
  });
});

describe('a program built for one command', () => {
  it('has that command as the whole program has it, and the others by their heads', () => {
    expect(NAMES.length).toBeGreaterThan(5);
    for (const name of NAMES) {
      const program = build(commandsInFull([name]));
      expect(shown(byName(program, name))).toEqual(shown(byName(whole, name)));
      for (const other of program.commands.filter((command) => command.name() !== name)) {
        const full = byName(whole, other.name());
        expect([other.description(), other.helpGroup()]).toEqual([full?.description(), full?.helpGroup()]);
        expect(other.options).toEqual([]);
      }
    }
  });

  it('lists the commands in the same order, with the same descriptions', () => {
    const heads = (program: Command) => program.commands.map((c) => [c.name(), c.helpGroup(), c.description()]);
    for (const name of NAMES) expect(heads(build(commandsInFull([name])))).toEqual(heads(whole));
  });
});

describe('a line that asks for help', () => {
  /** What `kash <args>` prints, through the real run: its status and both streams. */
  async function shows(...args: string[]) {
    const io = scriptIO();
    const status = await kash(args, io, {});
    return { status, out: io.out, err: io.err };
  }

  it.each([
    [['--help', 'login'], ['--help']],
    [['-h', 'exec'], ['--help']],
    [['--help', 'otp', 'consume'], ['--help']],
  ])('%j shows what %j shows: every command with its arguments', async (line, same) => {
    const whole = await shows(...same);
    expect(whole.out).toMatch(/login \[options\]/);
    expect(await shows(...line)).toEqual(whole);
  });

  it.each([
    [
      ['help', 'otp'],
      ['otp', '--help'],
    ],
    [
      ['help', 'switch'],
      ['switch', '--help'],
    ],
  ])('%j shows what %j shows', async (line, same) => {
    expect(await shows(...line)).toEqual(await shows(...same));
  });
});

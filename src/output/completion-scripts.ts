/**
 * Shell completion scripts, generated from a description of the commands (a
 * `CompletionSpec`, which src/commands/completion.ts derives from the commander program).
 * Pure: data in, script text out.
 *
 * Every script follows the same reading of the words before the cursor, the way commander
 * parses them: an option that takes a value consumes the next word (or its `=value`); the
 * first operand that names a subcommand enters it; after `--` everything is an operand.
 * Then it offers, for the word under the cursor: the values of the option before it, the
 * options (when it starts with `-`), or the subcommands and operand choices.
 */
import {
  type CommandSpec,
  type CompletionSpec,
  INSTALL,
  type OptionSpec,
  type Shell,
  type ValueCompletion,
} from './completion-shells.js';

const WORD = /^[A-Za-z0-9][A-Za-z0-9._+@%,/-]*$/;
const LONG = /^--[A-Za-z0-9][A-Za-z0-9-]*$/;
const SHORT = /^-[A-Za-z0-9?]$/;

/**
 * Names go into the scripts unquoted in places (case patterns, word lists): refuse any that
 * could mean something to a shell, rather than write a script that runs it.
 */
function checkSpec(spec: CompletionSpec): void {
  const fail = (what: string) => {
    throw new Error(`cannot write a completion script: ${what}`);
  };
  if (!WORD.test(spec.program)) fail(`program name ${JSON.stringify(spec.program)}`);
  if (!LONG.test(spec.configDirOption)) fail(`option ${JSON.stringify(spec.configDirOption)}`);
  for (const word of spec.profilesCommand) if (!WORD.test(word)) fail(`word ${JSON.stringify(word)}`);
  if (spec.commands[0]?.path.length !== 0) fail('the program must come first');
  for (const command of spec.commands) {
    for (const word of [...command.path, ...command.subcommands.map((sub) => sub.name), ...command.operands]) {
      if (!WORD.test(word)) fail(`word ${JSON.stringify(word)} in ${JSON.stringify(command.path.join(' '))}`);
    }
    for (const option of command.options) {
      if (option.long === undefined && option.short === undefined) fail('an option without a name');
      if (option.long !== undefined && !LONG.test(option.long)) fail(`option ${JSON.stringify(option.long)}`);
      if (option.short !== undefined && !SHORT.test(option.short)) fail(`option ${JSON.stringify(option.short)}`);
      if (option.value?.kind === 'choices')
        for (const value of option.value.values) if (!WORD.test(value)) fail(`value ${JSON.stringify(value)}`);
    }
  }
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  checkSpec(spec);
  return { bash, zsh, fish, powershell }[shell](spec);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

const names = (option: OptionSpec) => [option.long, option.short].filter((name): name is string => name !== undefined);
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const header = (shell: Shell, spec: CompletionSpec, comment: string) =>
  [
    `${comment} ${shell === 'powershell' ? 'PowerShell' : shell} completion for ${spec.program}, written by \`${spec.program} completion ${shell}\``,
    `${comment} from ${spec.program}'s own command definitions.`,
    comment,
    `${comment} To install it:`,
    ...INSTALL[shell].flatMap(([command, where]) => [`${comment}   ${where}:`, `${comment}     ${command}`]),
  ].join('\n');

/** `value` as the scripts name what to complete: `choices a b c`, `profiles`, `directory` or `text`. */
const valueKind = (value: ValueCompletion) =>
  value.kind === 'choices' ? `choices ${value.values.join(' ')}` : value.kind;

// ---------------------------------------------------------------------------------------------
// bash (3.2 and later: no mapfile, compopt only where it exists)

const bashQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

function bash(spec: CompletionSpec): string {
  const fn = `_${spec.program.replace(/[^A-Za-z0-9]/g, '_')}`;
  const key = (command: CommandSpec) => bashQuote(command.path.join(' '));
  const perCommand = (body: (command: CommandSpec) => string | undefined) =>
    spec.commands
      .map((command) => [command, body(command)] as const)
      .filter((entry): entry is readonly [CommandSpec, string] => entry[1] !== undefined)
      .map(([command, text]) => `    ${key(command)}) ${text} ;;`)
      .join('\n');
  const valueCases = (command: CommandSpec) => {
    const taking = command.options.filter((option) => option.value !== undefined);
    const byKind = new Map<string, string[]>();
    for (const option of taking) {
      if (option.value === undefined) continue;
      const kind = valueKind(option.value);
      byKind.set(kind, [...(byKind.get(kind) ?? []), ...names(option)]);
    }
    const cases = [...byKind].map(([kind, flags]) => `${flags.join('|')}) echo ${bashQuote(kind)} ;;`);
    return `case $2 in ${[...cases, '*) return 1 ;;'].join(' ')} esac`;
  };
  const profiles = spec.profilesCommand.join(' ');
  return `${header('bash', spec, '#')}

# What the value of option $2 at command path $1 is completed with: "choices <words>",
# profiles, directory or text. Status 1 when that option takes no value there.
${fn}_value() {
    case $1 in
${perCommand(valueCases)}
    *) return 1 ;;
    esac
}

${fn}_options() {
    case $1 in
${perCommand((command) => `echo ${bashQuote(command.options.flatMap(names).join(' '))}`)}
    esac
}

${fn}_subcommands() {
    case $1 in
${perCommand((command) => (command.subcommands.length > 0 ? `echo ${bashQuote(command.subcommands.map((sub) => sub.name).join(' '))}` : undefined))}
    esac
}

${fn}_operands() {
    case $1 in
${perCommand((command) => (command.operands.length > 0 ? `echo ${bashQuote(command.operands.join(' '))}` : undefined))}
    esac
}

# Whether the operands after -- are a command line of their own.
${fn}_passthrough() {
    case $1 in
${perCommand((command) => (command.passthrough ? 'return 0' : undefined))}
    esac
    return 1
}

# $1 as the shell will pass it: quotes and backslashes removed, a leading ~/ expanded (without eval).
${fn}_dequote() {
    local word=$1 out='' i c
    case $word in
    \\'*\\') out=\${word:1:\${#word}-2} ;;
    \\"*\\") out=\${word:1:\${#word}-2} ;;
    *)
        for (( i = 0; i < \${#word}; i++ )); do
            c=\${word:i:1}
            if [[ $c == \\\\ ]]; then
                i=$((i + 1))
                c=\${word:i:1}
            fi
            out+=$c
        done
        ;;
    esac
    [[ $out == '~/'* ]] && out=$HOME/\${out#'~/'}
    printf '%s' "$out"
}

# The saved profile names, from ${spec.program} itself (no network; nothing when there is no store).
${fn}_profiles() {
    if [[ -n $1 ]]; then
        local dir
        dir=$(${fn}_dequote "$1")
        command ${spec.program} ${profiles} ${spec.configDirOption} "$dir" 2>/dev/null
    else
        command ${spec.program} ${profiles} 2>/dev/null
    fi
}

# Adds each word of $1 that starts with $cur, after $prefix.
${fn}_add() {
    local word
    for word in $1; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$prefix$word")
    done
    return 0
}

${fn}() {
    local cur=\${COMP_WORDS[COMP_CWORD]} path='' word kind option='' prefix='' config_dir='' awaiting=''
    local i=1 operands=0 dashdash=0
    COMPREPLY=()
    while (( i < COMP_CWORD )); do
        word=\${COMP_WORDS[i]}
        i=$((i + 1))
        if [[ -n $awaiting ]]; then
            # bash splits --option=value at the = (COMP_WORDBREAKS): skip it.
            [[ $word == = ]] && continue
            [[ $awaiting == ${spec.configDirOption} ]] && config_dir=$word
            awaiting=''
            continue
        fi
        if (( dashdash )); then
            operands=$((operands + 1))
            continue
        fi
        case $word in
        --) dashdash=1 ;;
        -*=*) [[ \${word%%=*} == ${spec.configDirOption} ]] && config_dir=\${word#*=} ;;
        -?*) ${fn}_value "$path" "$word" >/dev/null && awaiting=$word ;;
        *)
            if (( operands == 0 )) && [[ " $(${fn}_subcommands "$path") " == *" $word "* ]]; then
                path=\${path:+$path }$word
            else
                operands=$((operands + 1))
            fi
            ;;
        esac
    done

    if [[ -n $awaiting ]]; then
        # The word under the cursor is the value of the option before it.
        option=$awaiting
        [[ $cur == = ]] && cur=''
    elif (( ! dashdash )) && [[ $cur == -*=* ]]; then
        option=\${cur%%=*}
        prefix=$option=
        cur=\${cur#*=}
    fi
    if [[ -n $option ]]; then
        kind=$(${fn}_value "$path" "$option") || return 0
        case $kind in
        choices\\ *) ${fn}_add "\${kind#choices }" ;;
        profiles) ${fn}_add "$(${fn}_profiles "$config_dir")" ;;
        directory)
            type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
            while IFS= read -r word; do COMPREPLY+=("$prefix$word"); done < <(compgen -d -- "$cur")
            ;;
        esac
        return 0
    fi

    if (( dashdash )) && ${fn}_passthrough "$path"; then
        if (( operands == 0 )); then
            while IFS= read -r word; do COMPREPLY+=("$word"); done < <(compgen -c -- "$cur" | sort -u)
        else
            type compopt >/dev/null 2>&1 && compopt -o default 2>/dev/null
        fi
        return 0
    fi
    if (( ! dashdash )) && [[ $cur == -* ]]; then
        ${fn}_add "$(${fn}_options "$path")"
        return 0
    fi
    if (( operands == 0 )); then
        ${fn}_add "$(${fn}_subcommands "$path") $(${fn}_operands "$path")"
    fi
    # Nothing else to offer here: offer the options.
    if (( ! dashdash )) && (( \${#COMPREPLY[@]} == 0 )) && [[ -z $cur ]]; then
        ${fn}_add "$(${fn}_options "$path")"
    fi
    return 0
}

complete -F ${fn} ${spec.program}
`;
}

// ---------------------------------------------------------------------------------------------
// zsh (native: #compdef, _arguments, _describe)

const zshQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
/** An explanation inside an _arguments spec's brackets. */
const zshExplanation = (text: string) => oneLine(text).replace(/[\\[\]:]/g, '\\$&');

function zshOptionSpecs(option: OptionSpec, program: string): string[] {
  const flags = names(option);
  const exclusion = flags.length > 1 ? `(${flags.join(' ')})` : '';
  const action = (() => {
    const value = option.value;
    if (value === undefined) return '';
    const message = (option.valueName ?? 'value').replace(/[\\:]/g, '\\$&');
    switch (value.kind) {
      case 'choices':
        return `:${message}:(${value.values.join(' ')})`;
      case 'profiles':
        return `:${message}:_${program}_profiles`;
      case 'directory':
        return `:${message}:_directories`;
      case 'text':
        return `:${message}: `;
    }
  })();
  // `--name=`: the value is the next word, or follows an = in the same word.
  return flags.map((flag) =>
    zshQuote(
      `${exclusion}${flag}${option.value && flag.startsWith('--') ? '=' : ''}[${zshExplanation(option.description)}]${action}`,
    ),
  );
}

function zsh(spec: CompletionSpec): string {
  const program = spec.program;
  const fnName = (path: readonly string[]) =>
    `_${program}__${path.length === 0 ? 'root' : path.join('__').replace(/[^A-Za-z0-9_]/g, '_')}`;
  const seen = new Set<string>();
  for (const command of spec.commands) {
    if (seen.has(fnName(command.path)))
      throw new Error(`cannot write a completion script: two commands named like ${command.path.join(' ')}`);
    seen.add(fnName(command.path));
  }
  const functions = spec.commands.map((command) => {
    const optionSpecs = command.options.flatMap((option) => zshOptionSpecs(option, program));
    const context = [program, ...command.path].join('-');
    if (command.subcommands.length > 0) {
      const described = command.subcommands.map((sub) => zshQuote(`${sub.name}:${oneLine(sub.description)}`));
      const cases = command.subcommands.map(
        (sub) => `        ${sub.name}) ${fnName([...command.path, sub.name])} && ret=0 ;;`,
      );
      return `${fnName(command.path)}() {
    local curcontext=$curcontext state state_descr line ret=1
    local -A opt_args
    _arguments -C -S \\
${optionSpecs.map((s) => `        ${s} \\`).join('\n')}
        '(-): :->command' \\
        '(-)*:: :->argument' && ret=0
    case $state in
    command)
        local -a subcommands
        subcommands=(
${described.map((d) => `            ${d}`).join('\n')}
        )
        _describe -t commands ${zshQuote(`${[program, ...command.path].join(' ')} command`)} subcommands && ret=0
        ;;
    argument)
        curcontext=\${curcontext%:*:*}:${context}-$words[1]:
        case $words[1] in
${cases.join('\n')}
        esac
        ;;
    esac
    return ret
}`;
    }
    const rest = command.passthrough
      ? [`'*:: :_normal'`]
      : command.operands.length > 0
        ? [zshQuote(`1: :(${command.operands.join(' ')})`)]
        : [];
    const specs = [...optionSpecs, ...rest];
    // _arguments keeps a -- that follows the command name among the words it hands on.
    const afterDashDash = command.passthrough
      ? `
    local dashdash=\${words[(i)--]}
    if (( dashdash < CURRENT )); then
        # After --: a command line of its own.
        words=("\${(@)words[dashdash+1,-1]}")
        (( CURRENT -= dashdash ))
        _normal
        return
    fi`
      : '';
    return `${fnName(command.path)}() {${afterDashDash}
    _arguments -S${specs.length > 0 ? ' \\' : ''}
${specs.map((s, i) => `        ${s}${i < specs.length - 1 ? ' \\' : ''}`).join('\n')}
}`;
  });

  return `#compdef ${program}
${header('zsh', spec, '#')}

# The saved profile names, from ${program} itself (no network; nothing when there is no store).
_${program}_profiles() {
    local dir='' i
    local -a profiles
    for (( i = 2; i <= $#_${program}_words; i++ )); do
        case $_${program}_words[i] in
        ${spec.configDirOption}) dir=$_${program}_words[i+1] ;;
        ${spec.configDirOption}=*) dir=\${_${program}_words[i]#*=} ;;
        esac
    done
    dir=\${(Q)dir}
    [[ $dir == '~/'* ]] && dir=$HOME/\${dir#'~/'}
    if [[ -n $dir ]]; then
        profiles=(\${(f)"$(command ${program} ${spec.profilesCommand.join(' ')} ${spec.configDirOption} "$dir" 2>/dev/null)"})
    else
        profiles=(\${(f)"$(command ${program} ${spec.profilesCommand.join(' ')} 2>/dev/null)"})
    fi
    _wanted profiles expl 'saved profile' compadd -a profiles
}

${functions.join('\n\n')}

_${program}() {
    # The whole line, for _${program}_profiles: the subcommands' _arguments narrow $words.
    local -a _${program}_words
    _${program}_words=("\${words[@]}")
    ${fnName([])} "$@"
}

if [[ $funcstack[1] == _${program} ]]; then
    # Loaded from $fpath by compinit: this file is the body of _${program}.
    _${program} "$@"
else
    compdef _${program} ${program}
fi
`;
}

// ---------------------------------------------------------------------------------------------
// fish

const fishQuote = (text: string) => `'${text.replace(/[\\']/g, '\\$&')}'`;

function fish(spec: CompletionSpec): string {
  const program = spec.program;
  const pathOf = (command: CommandSpec) => [program, ...command.path].join(' ');
  const cases = (body: (command: CommandSpec) => string | undefined) =>
    spec.commands
      .map((command) => [command, body(command)] as const)
      .filter((entry): entry is readonly [CommandSpec, string] => entry[1] !== undefined)
      .map(([command, text]) => `        case ${fishQuote(pathOf(command))}\n            ${text}`)
      .join('\n');

  const lines: string[] = [];
  for (const command of spec.commands) {
    const at = fishQuote(`__${program}_at ${JSON.stringify(pathOf(command))}`);
    for (const sub of command.subcommands) {
      lines.push(
        `complete -c ${program} -n ${fishQuote(`__${program}_operand_at ${JSON.stringify(pathOf(command))}`)} -a ${sub.name} -d ${fishQuote(oneLine(sub.description))}`,
      );
    }
    if (command.operands.length > 0) {
      lines.push(
        `complete -c ${program} -n ${fishQuote(`__${program}_operand_at ${JSON.stringify(pathOf(command))}`)} -a ${fishQuote(command.operands.join(' '))}`,
      );
    }
    for (const option of command.options) {
      const flags = [option.long ? `-l ${option.long.slice(2)}` : '', option.short ? `-s ${option.short.slice(1)}` : '']
        .filter(Boolean)
        .join(' ');
      const value = option.value;
      const action =
        value === undefined
          ? ''
          : value.kind === 'choices'
            ? ` -x -a ${fishQuote(value.values.join(' '))}`
            : value.kind === 'profiles'
              ? ` -x -a '(__${program}_profiles)'`
              : value.kind === 'directory'
                ? ` -x -a '(__fish_complete_directories (commandline -ct))'`
                : ' -x';
      lines.push(`complete -c ${program} -n ${at} ${flags}${action} -d ${fishQuote(oneLine(option.description))}`);
    }
    if (command.passthrough) {
      const pass = (n: string) => fishQuote(`__${program}_passthrough_at ${JSON.stringify(pathOf(command))} ${n}`);
      lines.push(`complete -c ${program} -n ${pass('first')} -a '(__fish_complete_command)'`);
      lines.push(`complete -c ${program} -n ${pass('rest')} -F`);
    }
  }

  return `${header('fish', spec, '#')}

# Whether option $argv[2] takes a value at command path $argv[1].
function __${program}_takes_value
    switch $argv[1]
${cases((command) => {
  const taking = command.options.filter((option) => option.value !== undefined).flatMap(names);
  return taking.length > 0 ? `contains -- $argv[2] ${taking.join(' ')}` : 'return 1';
})}
    end
end

function __${program}_subcommands
    switch $argv[1]
${cases((command) => (command.subcommands.length > 0 ? `printf '%s\\n' ${command.subcommands.map((sub) => sub.name).join(' ')}` : undefined))}
    end
end

# Reads the words before the cursor as ${program} does; prints the command path
# ("${program} otp consume"), whether -- was seen (0 or 1), the number of operands,
# and the folder given with ${spec.configDirOption}.
function __${program}_state
    set -l path ${program}
    set -l dashdash 0
    set -l operands 0
    set -l config_dir ''
    set -l awaiting ''
    set -l words (commandline -opc)
    set -e words[1]
    for word in $words
        if test -n "$awaiting"
            test "$awaiting" = ${spec.configDirOption}; and set config_dir $word
            set awaiting ''
            continue
        end
        if test $dashdash = 1
            set operands (math $operands + 1)
            continue
        end
        switch $word
            case --
                set dashdash 1
            case '-*=*'
                set -l parts (string split -m 1 = -- $word)
                test "$parts[1]" = ${spec.configDirOption}; and set config_dir $parts[2]
            case '-?*'
                __${program}_takes_value $path $word; and set awaiting $word
            case '*'
                if test $operands = 0; and contains -- $word (__${program}_subcommands $path)
                    set path "$path $word"
                else
                    set operands (math $operands + 1)
                end
        end
    end
    printf '%s\\n' $path $dashdash $operands $config_dir
end

# At this command path, before any --.
function __${program}_at
    set -l state (__${program}_state)
    test "$state[1]" = "$argv[1]"; and test $state[2] = 0
end

# At this command path, before any operand.
function __${program}_operand_at
    set -l state (__${program}_state)
    test "$state[1]" = "$argv[1]"; and test $state[3] = 0
end

# After -- at this command path: the first word of the command line, or the rest.
function __${program}_passthrough_at
    set -l state (__${program}_state)
    test "$state[1]" = "$argv[1]"; and test $state[2] = 1; or return 1
    if test $argv[2] = first
        test $state[3] = 0
    else
        test $state[3] != 0
    end
end

# The saved profile names, from ${program} itself (no network; nothing when there is no store).
function __${program}_profiles
    set -l state (__${program}_state)
    set -l dir (string replace -r '^~/' "$HOME/" -- "$state[4]")
    set -l names
    if test -n "$dir"
        set names (command ${program} ${spec.profilesCommand.join(' ')} ${spec.configDirOption} $dir 2>/dev/null)
    else
        set names (command ${program} ${spec.profilesCommand.join(' ')} 2>/dev/null)
    end
    for name in $names
        printf '%s\tsaved profile\n' $name
    end
end

complete -c ${program} -e
# No file names, unless a line below offers them.
complete -c ${program} -f
${lines.join('\n')}
`;
}

// ---------------------------------------------------------------------------------------------
// PowerShell

/** PowerShell also ends single-quoted strings at the typographic single quotes. */
const psQuote = (text: string) => `'${text.replace(/['\u2018-\u201b]/gu, '$&$&')}'`;
const psArray = (items: readonly string[]) => `@(${items.map(psQuote).join(', ')})`;

function powershell(spec: CompletionSpec): string {
  // Arrays of small tables rather than keyed tables: PowerShell's keys ignore case, and its
  // literals refuse keys that differ only by case (a future -v beside -V).
  const entries = spec.commands.map((command) => {
    const subcommands = command.subcommands.map(
      (sub) => `@{ Name = ${psQuote(sub.name)}; Description = ${psQuote(oneLine(sub.description))} }`,
    );
    const options = command.options.flatMap((option) =>
      names(option).map((flag) => {
        const value = option.value;
        const fields = [
          `Name = ${psQuote(flag)}`,
          `Value = ${psQuote(value === undefined ? '' : value.kind)}`,
          `Choices = ${psArray(value?.kind === 'choices' ? value.values : [])}`,
          `Description = ${psQuote(oneLine(option.description))}`,
        ];
        return `@{ ${fields.join('; ')} }`;
      }),
    );
    const list = (items: string[]) => `@(${items.map((item) => `\n                ${item}`).join(',')}\n            )`;
    return `        @{
            Path = ${psQuote(command.path.join(' '))}
            Subcommands = ${list(subcommands)}
            Options = ${list(options)}
            Operands = ${psArray(command.operands)}
            Passthrough = $${command.passthrough ? 'true' : 'false'}
        }`;
  });
  const profiles = [spec.program, ...spec.profilesCommand].map(psQuote);

  return `${header('powershell', spec, '#')}

Register-ArgumentCompleter -Native -CommandName ${psArray([spec.program, `${spec.program}.cmd`, `${spec.program}.ps1`])} -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    # One entry per command path: its subcommands, its options (with what their values are)
    # and its operand choices.
    $commands = @(
${entries.join(',\n')}
    )
    # The item of $items with this exact name (case matters), or nothing.
    $find = {
        param($items, [string]$name)
        foreach ($item in $items) { if ($item.Name -ceq $name) { return $item } }
    }

    # The words before the one under the cursor, as the program will receive them.
    $words = [System.Collections.Generic.List[string]]::new()
    foreach ($element in $commandAst.CommandElements) {
        if ($element.Extent.EndOffset -ge $cursorPosition) { break }
        if ($element -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
            $words.Add($element.Value)
        } else {
            $words.Add($element.Extent.Text)
        }
    }

    $here = $commands[0]
    $operands = 0
    $dashdash = $false
    $awaiting = $null
    $configDir = $null
    for ($i = 1; $i -lt $words.Count; $i++) {
        $word = $words[$i]
        if ($null -ne $awaiting) {
            if ($awaiting -ceq ${psQuote(spec.configDirOption)}) { $configDir = $word }
            $awaiting = $null
            continue
        }
        if ($dashdash) { $operands++; continue }
        if ($word -ceq '--') {
            $dashdash = $true
        } elseif ($word -clike '-*=*') {
            $name, $value = $word -split '=', 2
            if ($name -ceq ${psQuote(spec.configDirOption)}) { $configDir = $value }
        } elseif ($word.StartsWith('-') -and $word.Length -gt 1) {
            $option = & $find $here.Options $word
            if ($option -and $option.Value) { $awaiting = $word }
        } elseif ($operands -eq 0 -and (& $find $here.Subcommands $word)) {
            $path = if ($here.Path) { "$($here.Path) $word" } else { $word }
            $here = foreach ($command in $commands) { if ($command.Path -ceq $path) { $command } }
        } else {
            $operands++
        }
    }

    $current = $wordToComplete
    $prefix = ''
    $name = $awaiting
    if ($null -eq $name -and -not $dashdash -and $current -clike '-*=*') {
        $name, $current = $current -split '=', 2
        $prefix = "$name="
    }
    $found = [System.Collections.Generic.List[System.Management.Automation.CompletionResult]]::new()
    $offer = {
        param([string]$text, [string]$description, [string]$type)
        if ($text.StartsWith($current, [System.StringComparison]::Ordinal)) {
            $tip = if ($description) { $description } else { $text }
            $found.Add([System.Management.Automation.CompletionResult]::new("$prefix$text", $text, $type, $tip))
        }
    }

    if ($null -ne $name) {
        $option = & $find $here.Options $name
        if (-not $option) { return }
        switch ($option.Value) {
            'choices' { foreach ($choice in $option.Choices) { & $offer $choice $option.Description 'ParameterValue' } }
            'profiles' {
                # The saved profile names, from ${spec.program} itself (no network; nothing when there is no store).
                $saved = if ($configDir) {
                    & ${profiles.join(' ')} ${psQuote(spec.configDirOption)} $configDir 2>$null
                } else {
                    & ${profiles.join(' ')} 2>$null
                }
                foreach ($name in @($saved)) { if ($name) { & $offer $name 'saved profile' 'ParameterValue' } }
            }
            # A folder or free text: nothing returned lets PowerShell complete a path.
            default { return }
        }
        return $found
    }
    # After the -- of a command that runs another: PowerShell's own completion.
    if ($dashdash -and $here.Passthrough) { return }
    if (-not $dashdash -and $current.StartsWith('-')) {
        foreach ($option in $here.Options) { & $offer $option.Name $option.Description 'ParameterName' }
        return $found
    }
    if ($operands -eq 0) {
        foreach ($command in $here.Subcommands) { & $offer $command.Name $command.Description 'Command' }
        foreach ($operand in $here.Operands) { & $offer $operand $operand 'ParameterValue' }
    }
    if (-not $dashdash -and $found.Count -eq 0 -and $current -eq '') {
        foreach ($option in $here.Options) { & $offer $option.Name $option.Description 'ParameterName' }
    }
    return $found
}
`;
}

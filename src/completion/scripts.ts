// The scripts that `kash completion <shell>` prints: each hands `kash __complete` the words before the
// cursor and shows its answer, honouring the directives. All the knowledge is in complete.ts.
export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** How to install each script, as [command line, where it goes]: for the help and the scripts' headers. */
export const INSTALL: Record<Shell, Array<[command: string, where: string]>> = {
  bash: [['source <(kash completion bash)', 'bash: in ~/.bashrc']],
  zsh: [
    [`kash completion zsh > "\${fpath[1]}/_kash"`, 'zsh: saved in a folder of $fpath (then start a new shell)'],
    ['source <(kash completion zsh)', 'zsh, or: in ~/.zshrc, after compinit'],
  ],
  fish: [['kash completion fish > ~/.config/fish/completions/kash.fish', 'fish: where fish looks for completions']],
  powershell: [['kash completion powershell | Out-String | Invoke-Expression', 'PowerShell: in your $PROFILE']],
};

const BODY: Record<Shell, string> = {
  bash: `
# For bash 3.2 and later: no mapfile, no negative subscripts, compopt only where it exists.
_kash() {
    local i w out directive words=()
    for ((i = 1; i <= COMP_CWORD; i++)); do
        # As kash will get it: quotes or backslashes removed (no eval); --option=value whole (bash splits at =).
        w=\${COMP_WORDS[i]} && [[ $w == \\'*\\' || $w == \\"*\\" ]] && w=\${w:1:\${#w}-2} || IFS= read w <<<"$w"
        ((i > 1)) && [[ $w == = || \${COMP_WORDS[i - 1]} == = ]] && words[\${#words[@]}-1]+=$w || words+=("$w")
    done
    out=$(command kash __complete "\${words[@]}" 2>/dev/null)
    [[ \${out##*:} =~ ^[0-9]+$ ]] && directive=\${out##*:} && ! ((directive & 1)) || return 0
    IFS=$'\\n' read -d '' -ra COMPREPLY <<<"\${out%:*}"
    COMPREPLY=("\${COMPREPLY[@]%%$'\\t'*}")
    ((directive & 2)) && compopt -o nospace 2>/dev/null
    if ((\${#COMPREPLY[@]} == 0 && !(directive & 4))); then
        compopt -o filenames 2>/dev/null
        ((directive & 16)) && w=-d || w=-f
        IFS=$'\\n' read -d '' -ra COMPREPLY < <(compgen $w -- "$2")
    fi
}
complete -F _kash kash
`,
  zsh: `
_kash() {
    local line directive lines=() values=() shown=() nospace=()
    lines=("\${(@f)$(command kash __complete "\${(@Q)words[2,CURRENT]}" 2>/dev/null)}")
    [[ $lines[-1] == :<-> ]] && directive=\${lines[-1]#:} && (( ! (directive & 1) )) || return 1
    (( directive & 2 )) && nospace=(-S '')
    # The answer completes what follows the = of --option=value.
    [[ $PREFIX == -*=* ]] && compset -P 1 '*='
    for line in "\${(@)lines[1,-2]}"; do
        values+=("\${line%%$'\\t'*}")
        shown+=("\${values[-1]//:/\\\\:}\${\${(M)line%%$'\\t'*}/$'\\t'/:}")
    done
    if (( $#values )); then
        _describe -t values kash shown values "\${nospace[@]}"
    elif (( ! (directive & 4) )); then
        if (( directive & 16 )); then _files -/; else _files; fi
    fi
}
# Loaded from $fpath by compinit, this file is the body of _kash; sourced, it registers it.
if [[ $funcstack[1] == _kash ]]; then _kash "$@"; else compdef _kash kash; fi
`,
  fish: `
function __kash_complete
    set -l current (commandline -ct)
    set -l out (command kash __complete (commandline -opc)[2..-1] "$current" 2>/dev/null)
    string match -qr '^:[0-9]+$' -- $out[-1]; and set -l directive (string sub -s 2 -- $out[-1]); or return
    test (math "bitand($directive, 1)") = 0; and set -e out[-1]; or return
    # fish completes the whole word: --option= goes back before the value.
    set -l prefix (string match -r -- '^-[^=]*=' "$current")
    printf "$prefix%s\\n" $out
    if test (count $out) = 1; and test (math "bitand($directive, 2)") != 0
        # A second match sharing the first's text keeps fish from adding a space.
        printf "$prefix%s.\\n" (string replace -r '\\t.*' '' -- $out)
    else if test (count $out) = 0; and test (math "bitand($directive, 4)") = 0
        test (math "bitand($directive, 16)") = 0; and __fish_complete_path "$current"
        test (math "bitand($directive, 16)") = 0; or __fish_complete_directories "$current"
    end
end
complete -c kash -f -a '(__kash_complete)'
`,
  powershell: `
Register-ArgumentCompleter -Native -CommandName @('kash', 'kash.cmd', 'kash.ps1') -ScriptBlock {
    param($word, $ast, $cursor)
    $words = @($ast.CommandElements | Select-Object -Skip 1 | Where-Object { $_.Extent.EndOffset -lt $cursor } |
        ForEach-Object { if ($null -ne $_.Value) { $_.Value } else { "$_" } })
    # Legacy passing is what lets an empty word reach kash, as "", on every PowerShell.
    $PSNativeCommandArgumentPassing = 'Legacy'
    $out = @(& kash __complete @words $(if ($word) { $word } else { '""' }) 2>$null)
    if ($out.Count -eq 0 -or $out[-1] -notmatch '^:(\\d+)$' -or ($Matches[1] -band 1)) { return }
    $directive = [int]$Matches[1]
    # PowerShell completes the whole word: --option= goes back before the value.
    $prefix = if ($word -match '^-[^=]*=') { $Matches[0] } else { '' }
    $space = if ($directive -band 2) { '' } else { ' ' }
    $found = @($out | Select-Object -SkipLast 1 | ForEach-Object {
        $value, $tip = (@($_ -split "\`t", 2) + $_)[0, 1]
        [Management.Automation.CompletionResult]::new("$prefix$value$space", $value, 'ParameterValue', $tip)
    })
    if ($found.Count -gt 0) { return $found }
    # An empty answer keeps PowerShell from offering file names (it has no "folders only", as cobra notes).
    if ($directive -band 4) { return '' }
}
`,
};

const header = (shell: Shell) => INSTALL[shell].map(([line, why]) => `#   ${why}:\n#     ${line}\n`).join('');
export const completionScript = (shell: Shell) =>
  `${shell === 'zsh' ? '#compdef kash\n' : ''}# Completion for kash. To install it:\n${header(shell)}${BODY[shell]}`;

/** Where a command line must point to reach the same credentials: the profile, and a --config-dir typed on this one. */
export interface Scope {
  profile: string;
  configDirFlag: string | undefined;
}

/** A word as a POSIX shell reads it back, quoted only when it must be. */
const shellWord = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`);

/**
 * The command lines that hints suggest, each naming the profile and folder in use the same
 * way: nothing for the default profile, ` --profile <name>` otherwise.
 */
export const kashLine = (command: string, scope: Scope, rest = '') =>
  `kash ${command}${scope.profile === 'default' ? '' : ` --profile ${scope.profile}`}${
    scope.configDirFlag === undefined ? '' : ` --config-dir ${shellWord(scope.configDirFlag)}`
  }${rest}`;

/** KASH_APIKEY and KASH_SHOPID are offered only where they would be used: an explicit --profile beats them. */
export const loginHint = (scope: Scope, profileFlag: boolean) =>
  `Run \`${kashLine('login', scope)}\`${profileFlag ? '' : ', or set KASH_APIKEY and KASH_SHOPID'}.`;

/** The command that finishes a code login once the email has arrived. */
export const consumeLine = (scope: Scope, remembered: boolean, email: string) =>
  kashLine('otp consume', scope, `${remembered ? '' : ` --email ${shellWord(email)} --no-save`} --otp <code>`);

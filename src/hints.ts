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

/**
 * What an `otp consume` line must repeat to work for this user: the email when no request of
 * theirs is remembered in the profile, and --no-save (with its --format) when they gave it.
 */
export interface ConsumeFlags {
  email: string | undefined;
  save: boolean;
  format: string | undefined;
}

/** The command that finishes a code login, or tries a mistyped code again. */
export const consumeLine = (scope: Scope, flags: ConsumeFlags) =>
  kashLine(
    'otp consume',
    scope,
    `${flags.email === undefined ? '' : ` --email ${shellWord(flags.email)}`}${flags.save ? '' : ' --no-save'}${
      flags.format === undefined ? '' : ` --format ${shellWord(flags.format)}`
    } --otp <code>`,
  );

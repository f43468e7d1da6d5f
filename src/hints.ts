/**
 * The command lines that hints suggest, so that each names the profile in use the same
 * way: nothing for the default one, ` --profile <name>` otherwise.
 */
export const profileFlag = (profile: string) => (profile === 'default' ? '' : ` --profile ${profile}`);

export const loginHint = (profile: string) =>
  `Run \`kash login${profileFlag(profile)}\`, or set KASH_APIKEY and KASH_SHOPID.`;

/** The command that finishes a code login once the email has arrived. */
export const consumeLine = (profile: string, remembered: boolean, email: string) =>
  `kash otp consume${profileFlag(profile)}${remembered ? '' : ` --email ${email} --no-save`} --otp <code>`;

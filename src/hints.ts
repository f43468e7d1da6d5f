/**
 * The command lines that hints suggest, so that each names the profile in use the same
 * way: nothing for the default one, ` --profile <name>` otherwise.
 */
export const profileFlag = (profile: string) => (profile === 'default' ? '' : ` --profile ${profile}`);

export const loginHint = (profile: string) =>
  `Run \`kash login${profileFlag(profile)}\`, or set KASH_APIKEY and KASH_SHOPID.`;

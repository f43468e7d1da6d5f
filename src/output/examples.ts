/** The "Examples:" block that ends a command's --help: real command lines, each with why. */
export function examples(...lines: Array<[command: string, why: string]>): string {
  return `\nExamples:\n${lines.map(([command, why]) => `  # ${why}\n  $ ${command}`).join('\n\n')}\n`;
}

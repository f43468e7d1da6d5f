// Preloaded (node --require) into a kash run to learn its peak memory: at exit, the
// process's largest resident set, in kilobytes, is written to KASH_TEST_RSS. On Linux it
// is VmHWM, the peak of this program's own memory: getrusage's maxRSS is carried across
// fork and exec, so it would report the test runner's own peak when that was higher.
const { readFileSync, writeFileSync } = require('node:fs');

function peakKilobytes() {
  if (process.platform === 'linux') {
    const line = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line) return Number(line[1]);
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.KASH_TEST_RSS;
if (file) process.on('exit', () => writeFileSync(file, String(peakKilobytes())));

// Preloaded (node --require) into a kash run to learn its peak memory: at exit, the
// process's largest resident set, in kilobytes, is written to KASH_TEST_RSS.
const { writeFileSync } = require('node:fs');

const file = process.env.KASH_TEST_RSS;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));

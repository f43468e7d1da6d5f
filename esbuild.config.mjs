// Builds one minified ESM bundle for the CLI (lazy chunks split out), and the
// development-only emulator and demo, which are never shipped.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  // Bundled CommonJS (commander) calls require() for Node built-ins.
  banner: { js: "import { createRequire as __kashRequire } from 'node:module'; const require = __kashRequire(import.meta.url);" },
};

await Promise.all([
  build({
    ...common,
    entryPoints: { kash: 'src/main.ts' },
    outdir: 'dist',
    splitting: true,
    minify: true,
    chunkNames: 'chunks/[name]-[hash]',
    define: { KASH_VERSION: JSON.stringify(version) },
  }),
  build({
    ...common,
    entryPoints: { 'emulator-main': 'test/support/emulator-main.ts', demo: 'test/support/demo.ts', bench: 'test/bench/bench.ts' },
    outdir: 'build/dev',
  }),
]);

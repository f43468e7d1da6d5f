// Builds one minified ESM bundle for the CLI (lazy chunks split out), and the
// development-only emulator, demo and benchmark, which are never shipped.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// Bundled CommonJS (commander) calls require() for Node built-ins.
const banner = { js: "import { createRequire as __kashRequire } from 'node:module'; const require = __kashRequire(import.meta.url);" };

/**
 * Start-up cost, measured by `npm run bench`: an ESM `import` of a Node built-in builds
 * a module facade over all its exports (several ms for fs and friends), while require()
 * does not; and commander loads child_process, which we never use, at start. So
 * built-ins are reached through require(), child_process only on first use.
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(build) {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!builtins.has(args.path) || args.path === 'node:module') return undefined;
      // The require() inside the stand-in itself is Node's own.
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      // One stand-in per importing file, so none is shared between chunks: a shared one
      // would become a tiny chunk of its own, and each chunk costs a module load.
      return { path: `${args.path.replace(/^node:/, '')}:${args.importer}`, namespace: 'builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const name = args.path.slice(0, args.path.indexOf(':'));
      return {
        contents:
          name === 'child_process'
            ? "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });"
            : `module.exports = require('node:${name}');`,
        loader: 'js',
      };
    });
  },
};

// Chunk names carry content hashes: start empty so stale chunks do not pile up or ship.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

await Promise.all([
  build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
    banner,
    entryPoints: { kash: 'src/main.ts' },
    outdir: 'dist',
    splitting: true,
    minify: true,
    chunkNames: 'chunks/[name]-[hash]',
    define: { KASH_VERSION: JSON.stringify(version) },
    plugins: [builtinsByRequire],
  }),
  build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
    banner,
    entryPoints: { 'emulator-main': 'test/support/emulator-main.ts', demo: 'test/support/demo.ts', bench: 'test/bench/bench.ts' },
    outdir: 'build/dev',
  }),
]);

// Builds the CLI as one minified file, dist/kash.cjs, plus one ESM file per library that
// only some commands need (dist/lib/), and the development-only emulator, demo and
// benchmark (build/dev/), which are never shipped.

import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// Bundled CommonJS (commander) calls require() for Node built-ins.
const banner = {
  js: "import { createRequire as __kashRequire } from 'node:module'; const require = __kashRequire(import.meta.url);",
};

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * How bundled code reaches Node's built-ins, for start-up's sake (measured by `npm run
 * bench`). commander loads child_process, which kash rarely needs, at start: it is
 * always a stand-in that loads it on first use. In the CommonJS main file every other
 * built-in simply stays a require(), whose named exports esbuild reads off it (a stand-in
 * would be copied property by property, __toESM over all of fs's exports at every start;
 * binding each export once from process.getBuiltinModule measured slower still). In the
 * ES module libraries every built-in is a stand-in around require(), since an ESM
 * `import` of one builds a module facade over all its exports (several ms for fs).
 */
const builtins = ({ everyOneAStandIn }) => ({
  name: everyOneAStandIn ? 'builtins-by-stand-in' : 'builtins-as-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!BUILTINS.has(args.path) || args.path === 'node:module') return undefined;
      // The require() inside a stand-in itself is Node's own.
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      const name = args.path.replace(/^node:/, '');
      if (everyOneAStandIn || name === 'child_process') return { path: name, namespace: 'builtin' };
      return { path: `node:${name}`, external: true };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents:
        args.path === 'child_process'
          ? "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });"
          : `module.exports = require('node:${args.path}');`,
      loader: 'js',
    }));
  },
});

/**
 * The libraries that the print path (whoami, env, --help, --version) must not load, each
 * with what kash uses of it. Each becomes its own file that src/ reaches only through
 * `await import()`; a static import of one fails the build.
 */
const LAZY = {
  ky: { contents: "export { default } from 'ky';" },
  // Through its index, @inquirer/prompts drags in the editor prompt's 550 KB of text
  // encodings, which esbuild cannot shake off; so take the three prompts kash uses from
  // the packages the index re-exports, resolved from @inquirer/prompts' own folder.
  '@inquirer/prompts': {
    contents:
      "export { default as input } from '@inquirer/input'; export { default as password } from '@inquirer/password'; export { default as select } from '@inquirer/select';",
    resolveDir: dirname(fileURLToPath(import.meta.resolve('@inquirer/prompts'))),
  },
  chalk: { contents: "export { Chalk } from 'chalk';" },
  // Only when HTTPS_PROXY or HTTP_PROXY applies. (Taking fetch and Agent from
  // undici's own files rather than its index breaks its initialisation order.)
  undici: { contents: "export { fetch, Agent } from 'undici';" },
};
const libFile = (name) => LAZY[name].file ?? `lib/${name.replace(/^@.*\//, '')}.js`;
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const lazyLibraries = {
  name: 'lazy-libraries',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${Object.keys(LAZY).map(escapeRegExp).join('|')})$`) }, (args) => {
      if (args.kind !== 'dynamic-import') {
        return {
          errors: [
            { text: `${args.path} must be loaded with await import(), so that the print path never pays for it` },
          ],
        };
      }
      return { path: `./${libFile(args.path)}`, external: true };
    });
  },
};

const libraryEntries = {
  name: 'library-entries',
  setup(build) {
    build.onResolve({ filter: /^lazy:/ }, (args) => ({ path: args.path.slice('lazy:'.length), namespace: 'lazy' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      resolveDir: process.cwd(),
      contents: LAZY[args.path].contents,
      ...(LAZY[args.path].resolveDir ? { resolveDir: LAZY[args.path].resolveDir } : {}),
      loader: 'ts',
    }));
  },
};

const shipped = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  banner,
};

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

await Promise.all([
  // CommonJS, because Node starts its ESM loader only for an ES module: ~3 ms that every
  // `kash env` in a shell start-up file would pay. The lazy libraries stay ESM.
  build({
    ...shipped,
    format: 'cjs',
    banner: undefined,
    entryPoints: ['src/main.ts'],
    outfile: 'dist/kash.cjs',
    // A native addon cannot be bundled: kash's one runtime dependency, loaded only when a keyring is used.
    external: ['@napi-rs/keyring'],
    define: { KASH_VERSION: JSON.stringify(version) },
    plugins: [lazyLibraries, builtins({ everyOneAStandIn: false })],
  }),
  build({
    ...shipped,
    entryPoints: Object.fromEntries(
      Object.keys(LAZY).map((name) => [libFile(name).replace(/\.js$/, ''), `lazy:${name}`]),
    ),
    outdir: 'dist',
    plugins: [libraryEntries, builtins({ everyOneAStandIn: true })],
  }),
  build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
    banner,
    entryPoints: {
      'emulator-main': 'test/support/emulator-main.ts',
      demo: 'test/support/demo.ts',
      bench: 'test/bench/bench.ts',
    },
    outdir: 'build/dev',
  }),
]);

// Builds the CLI as one minified file, dist/kash.cjs, plus one file per library that
// only some commands need (dist/lib/), and the development-only emulator, demo and
// benchmark (build/dev/), which are never shipped. All that is shipped is CommonJS:
// Node starts its ES module loader only for an ES module or an import(), ~3 ms (on Node
// 20, some 30 % of kash's start-up) that every `kash env` in a shell start-up file
// would pay; and bin/kash.js can then run the bundle from a V8 code cache on every Node.

import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// The development tools are ES modules; bundled CommonJS (commander) calls require() for Node built-ins.
const banner = {
  js: "import { createRequire as __kashRequire } from 'node:module'; const require = __kashRequire(import.meta.url);",
};

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * How bundled code reaches Node's built-ins, for start-up's sake (measured by `npm run
 * bench`). commander loads child_process, which kash rarely needs, at start: it is a
 * stand-in that loads it on first use. Every other built-in simply stays a require(),
 * whose named exports esbuild reads off it (a stand-in would be copied property by
 * property, __toESM over all of fs's exports at every start; binding each export once
 * from process.getBuiltinModule measured slower still).
 */
const builtins = {
  name: 'builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!BUILTINS.has(args.path) || args.path === 'node:module') return undefined;
      // The require() inside the stand-in itself is Node's own.
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      const name = args.path.replace(/^node:/, '');
      if (name === 'child_process') return { path: name, namespace: 'builtin' };
      return { path: `node:${name}`, external: true };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/**
 * The libraries that the print path (whoami, env, --help, --version) must not load, each
 * with what kash uses of it. Each becomes its own file that src/ reaches only through
 * `await import()`, which the bundle turns into a require() of that file when it is
 * called; a static import of one fails the build.
 */
const LAZY = {
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
/** A native addon cannot be bundled: kash's one runtime dependency, loaded only when a keyring is used. */
const NATIVE = '@napi-rs/keyring';
const libFile = (name) => `lib/${name.replace(/^@.*\//, '')}.cjs`;
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The lazy libraries and the addon, each behind a require() that runs at its import(): no ES module loader. */
const lazyLibraries = {
  name: 'lazy-libraries',
  setup(build) {
    build.onResolve(
      { filter: new RegExp(`^(${[...Object.keys(LAZY), NATIVE].map(escapeRegExp).join('|')})$`), namespace: 'file' },
      (args) => {
        // Finding where the addon is loads nothing (src/store/keyring.ts looks there for its binary).
        if (args.kind === 'require-resolve' && args.path === NATIVE) return { path: args.path, external: true };
        if (args.kind !== 'dynamic-import') {
          return {
            errors: [
              { text: `${args.path} must be loaded with await import(), so that the print path never pays for it` },
            ],
          };
        }
        return { path: args.path, namespace: 'lazy-require' };
      },
    );
    build.onResolve({ filter: /.*/, namespace: 'lazy-require' }, (args) => ({ path: args.path, external: true }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (args) => ({
      // import() of a CommonJS file from kash's ES module sources gives its module.exports as
      // the default export, so a library whose one export is its default hands that over.
      // A lazy library by its absolute path: bin/kash.js hands the bundle a require of its own.
      contents: `const lib = require(${LAZY[args.path] ? `__dirname + ${JSON.stringify(`/${libFile(args.path)}`)}` : JSON.stringify(args.path)}); module.exports = 'default' in lib ? lib.default : lib;`,
      loader: 'js',
    }));
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
  format: 'cjs',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
};

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

await Promise.all([
  build({
    ...shipped,
    entryPoints: ['src/main.ts'],
    outfile: 'dist/kash.cjs',
    define: { KASH_VERSION: JSON.stringify(version) },
    plugins: [lazyLibraries, builtins],
  }),
  build({
    ...shipped,
    entryPoints: Object.fromEntries(
      Object.keys(LAZY).map((name) => [libFile(name).replace(/\.cjs$/, ''), `lazy:${name}`]),
    ),
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    plugins: [libraryEntries, builtins],
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

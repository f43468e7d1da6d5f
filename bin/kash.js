#!/usr/bin/env node
'use strict';
// V8's compile cache (Node 22.1 and later) spares kash compiling its bundle at each start:
// it must be on before the bundle is loaded, hence here rather than in it. It lives in
// kash's own cache folder, never Node's default in the shared temporary one, and only in
// a folder that is the user's own and that nobody else can write to, below a parent that
// cannot swap it: a planted cache would be code that kash runs. Any doubt, and any
// failure, costs nothing and says nothing: kash then starts without it.
try {
  // Node 20 has no compile cache: it is spared loading node:module to find that out.
  const { enableCompileCache } =
    Number.parseInt(process.versions.node, 10) >= 22 && process.getBuiltinModule('node:module');
  const folder = enableCompileCache && cacheFolder(process.env);
  if (folder) {
    const { lstatSync, mkdirSync } = process.getBuiltinModule('node:fs');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (
      process.platform === 'win32' ||
      trusted(lstatSync(folder), lstatSync(process.getBuiltinModule('node:path').dirname(folder)))
    ) {
      enableCompileCache(folder);
    }
  }
} catch {
  // No cache, then: the bundle is compiled as usual.
}
require('../dist/kash.cjs');

/** $XDG_CACHE_HOME/kash or ~/.cache/kash; ~/Library/Caches/kash on macOS; %LOCALAPPDATA%\kash on Windows. */
function cacheFolder(env) {
  const { isAbsolute, join } = process.getBuiltinModule('node:path');
  if (process.platform === 'win32') return env.LOCALAPPDATA && join(env.LOCALAPPDATA, 'kash');
  // HOME first, as os.homedir() reads it; node:os is not in Node's start-up snapshot.
  const home = () => env.HOME || process.getBuiltinModule('node:os').homedir();
  if (process.platform === 'darwin') return join(home(), 'Library', 'Caches', 'kash');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home(), '.cache'), 'kash');
}

/** A real folder of ours that group and others cannot write, in a parent that is closed or sticky. */
function trusted(own, parent) {
  return (
    own.isDirectory() &&
    own.uid === process.getuid() &&
    (own.mode & 0o022) === 0 &&
    ((parent.mode & 0o022) === 0 || (parent.mode & 0o1000) !== 0)
  );
}

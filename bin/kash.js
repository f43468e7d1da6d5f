#!/usr/bin/env node
'use strict';
// Loads the bundle with a V8 code cache of its own, made after a run rather than before
// it: so it holds every function that run compiled, where Node's compile cache holds
// only what V8 compiled up front (measured on Node 26, kash env: ~13 % fewer instructions
// than with Node's). It lives in kash's own cache folder, never in the shared temporary
// one, and only in a folder that is the user's own and that nobody else can write to,
// below a parent that cannot swap it: a planted cache would be code that kash runs. It
// is used only for the very bundle it was made from (compared byte for byte: V8 itself
// checks only the length) and for the same V8 (V8 checks that). Any doubt, and any
// failure, costs nothing and says nothing: kash then compiles its bundle as usual.
const fs = process.getBuiltinModule('node:fs');
const { dirname, isAbsolute, join, sep } = process.getBuiltinModule('node:path');

// Paths are joined by hand where their parts are clean already (a module's folder is a
// real path): path.join normalises a character at a time, the one hot loop of a start,
// and a few hundred characters of it make V8 optimise that loop on a thread of its own,
// for some 3 MB of memory. src/store/paths.ts joins the config folder the same way.
loadCached(`${dirname(__dirname)}${sep}dist${sep}kash.cjs`);

function loadCached(bundle) {
  const vm = process.getBuiltinModule('node:vm');
  const source = fs.readFileSync(bundle);
  const folder = trustedFolder();
  // A cache for each kind of run (the first word as it is, when it is a plain one: a
  // command, an option; else "other"), holding just what that kind compiles: one cache of
  // them all would make every run deserialize the code of every other.
  const kind = /^[a-z_-]{1,32}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
  const prefix = `kash-${process.versions.v8}-${process.arch}-`;
  const cacheName = `${prefix}${kind}.cache`;
  const cacheFile = folder && folder + sep + cacheName;
  const cached = cacheFile ? cacheFor(cacheFile, source) : undefined;
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source.toString()}\n})`,
    { filename: bundle, cachedData: cached?.data },
  );
  if (cacheFile) {
    process.once('exit', (status) => {
      // A run that went where the cache's run did not compiled code the cache lacks, so
      // the cache is made again: a run that reached the keyring where that one did not (a
      // file profile, then a keyring one), or one that succeeded where that one failed (a
      // first `kash env` before any login would otherwise leave every later one compiling
      // the rest of its way). The new cache holds what the old one held too, as V8 saves
      // every function it has compiled, so each kind is made again twice at most.
      const kept = cached && !script.cachedDataRejected ? cached : { keyring: false, succeeded: false };
      const made = { keyring: kept.keyring || usedKeyring(), succeeded: kept.succeeded || status === 0 };
      if (kept !== cached || made.keyring !== kept.keyring || made.succeeded !== kept.succeeded) {
        saveCache(folder, prefix, cacheName, source, script, made);
      }
    });
  }
  const bundleModule = { exports: {} };
  script.runInThisContext()(
    bundleModule.exports,
    // This file's own require: the bundle asks it only for built-ins, for the keyring
    // addon (found from here as from dist/) and, by absolute path, for its lazy libraries.
    // (node:module, for a require of the bundle's own, would load Node's ES module loader.)
    require,
    bundleModule,
    bundle,
    dirname(bundle),
  );
}

/** $XDG_CACHE_HOME/kash or ~/.cache/kash; ~/Library/Caches/kash on macOS; %LOCALAPPDATA%\kash on Windows. */
function cacheFolder(env) {
  if (process.platform === 'win32') return env.LOCALAPPDATA && join(env.LOCALAPPDATA, 'kash');
  // HOME first, as os.homedir() reads it; node:os is not in Node's start-up snapshot.
  const home = () => env.HOME || process.getBuiltinModule('node:os').homedir();
  if (process.platform === 'darwin') return joinNames(home(), 'Library', 'Caches', 'kash');
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? joinNames(xdg, 'kash') : joinNames(home(), '.cache', 'kash');
}

/** join(folder, ...names) for plain names, by hand where `folder` is an absolute path that needs no normalising. */
function joinNames(folder, ...names) {
  return /^(?:\/(?!\.\.?(?:\/|$))[^/]+)+$/.test(folder) ? [folder, ...names].join('/') : join(folder, ...names);
}

/**
 * The cache folder, made if need be, when it is a real folder of ours that group and
 * others cannot write, in a parent that is closed or sticky.
 */
function trustedFolder() {
  try {
    const folder = cacheFolder(process.env);
    if (!folder) return undefined;
    let own;
    try {
      own = fs.lstatSync(folder);
    } catch {
      // The folder, and its parent (~/.cache) if need be, but never a path further up: a
      // mistyped XDG_CACHE_HOME must not make folders all the way down from /.
      try {
        fs.mkdirSync(dirname(folder), { mode: 0o700 });
      } catch (error) {
        if (error.code !== 'EEXIST') return undefined;
      }
      fs.mkdirSync(folder, { mode: 0o700 });
      own = fs.lstatSync(folder);
    }
    if (process.platform === 'win32') return folder;
    const parent = fs.lstatSync(dirname(folder));
    const closed = (stat) => (stat.mode & 0o022) === 0;
    const trusted =
      own.isDirectory() &&
      own.uid === process.getuid() &&
      closed(own) &&
      (closed(parent) || (parent.mode & 0o1000) !== 0);
    return trusted ? folder : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this run loaded the keyring library, through the require that the bundle was given. */
function usedKeyring() {
  return Object.keys(require.cache).some((file) => /[\\/]@napi-rs[\\/]keyring/.test(file));
}

/**
 * A cache file is the bundle's length (4 bytes), the bundle itself, a byte saying where the
 * run that made it went (1: it reached the keyring; 2: it succeeded), then V8's code cache.
 */
function cacheFor(file, bundleBytes) {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.uid !== process.getuid?.() || stat.size > 64 * 1024 * 1024) return undefined;
      const bytes = Buffer.allocUnsafe(stat.size);
      let length = 0;
      while (length < bytes.length) {
        const read = fs.readSync(fd, bytes, length, bytes.length - length, length);
        if (read === 0) break;
        length += read;
      }
      const end = 4 + bundleBytes.length;
      if (length <= end + 1 || bytes.readUInt32LE(0) !== bundleBytes.length) return undefined;
      if (!bytes.subarray(4, end).equals(bundleBytes)) return undefined;
      const made = bytes[end];
      return { keyring: (made & 1) !== 0, succeeded: (made & 2) !== 0, data: bytes.subarray(end + 1, length) };
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** At most this many kinds of run keep a cache: a typo as a first word must not add files for ever. */
const MAX_CACHES = 32;

/** Written aside and renamed into place, so that a kash starting meanwhile reads a whole cache or none. */
function saveCache(folder, prefix, cacheName, bundleBytes, compiled, made) {
  const file = join(folder, cacheName);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const caches = fs.readdirSync(folder).filter((name) => name.startsWith(prefix) && name.endsWith('.cache'));
    if (!caches.includes(cacheName) && caches.length >= MAX_CACHES) return;
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bundleBytes.length, 0);
    const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
    const fd = fs.openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      for (const part of [
        length,
        bundleBytes,
        Buffer.of((made.keyring ? 1 : 0) | (made.succeeded ? 2 : 0)),
        compiled.createCachedData(),
      ]) {
        for (let done = 0; done < part.length; ) done += fs.writeSync(fd, part, done, part.length - done);
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {}
  }
}

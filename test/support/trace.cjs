// Preloaded with `node --require` into a kash run: records, as JSON lines in the file
// named by KASH_TRACE, every module loaded from a file, every touch of fetch, every process
// started, every socket connected and every file written, so a test can prove what
// the print path does not do.
'use strict';
// Node runs --require preloads in the module loader's own thread too; trace the program only.
if (require('node:worker_threads').isMainThread) trace();

function trace() {
  const fs = require('node:fs');
  const childProcess = require('node:child_process');
  const net = require('node:net');
  const { register, registerHooks } = require('node:module');

  const traceFile = process.env.KASH_TRACE;
  // Our own writes use the functions as they are before they are traced.
  const { openSync, writeSync } = fs;
  const traceFd = openSync(traceFile, 'a');
  const record = (kind, detail) => writeSync(traceFd, `${JSON.stringify({ kind, detail: String(detail) })}\n`);

  // What import and import() resolve is recorded, and (below) what require() loads from a
  // file. registerHooks (Node 22.15 and later) runs in this thread but sees require() too.
  // register() runs on the loader's own thread; Node 26 deprecates it with a warning on
  // the stderr that the tests want silent, so it is kept for Node 20, which has nothing else.
  if (registerHooks) {
    registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        if (context.conditions?.includes('import')) record('module', result.url);
        return result;
      },
    });
  } else {
    register(
      `data:text/javascript,${encodeURIComponent(`
        import { appendFileSync } from 'node:fs';
        export async function resolve(specifier, context, next) {
          const result = await next(specifier, context);
          appendFileSync(${JSON.stringify(traceFile)}, JSON.stringify({ kind: 'module', detail: result.url }) + '\\n');
          return result;
        }`)}`,
    );
  }

  // kash's one CommonJS dependency, the keyring library, is loaded with require().
  const Module = require('node:module');
  const load = Module.prototype.require;
  Module.prototype.require = function traced(id, ...rest) {
    if (!Module.isBuiltin(id)) record('module', Module._resolveFilename(id, this));
    return load.call(this, id, ...rest);
  };

  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  Object.defineProperty(globalThis, 'fetch', {
    configurable: true,
    enumerable: fetchDescriptor.enumerable,
    get() {
      record('fetch', 'globalThis.fetch');
      return fetchDescriptor.get ? fetchDescriptor.get.call(globalThis) : fetchDescriptor.value;
    },
    set(value) {
      Object.defineProperty(globalThis, 'fetch', { value, writable: true, configurable: true });
    },
  });

  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    const original = childProcess[name];
    childProcess[name] = function traced(...args) {
      record('process', args[0]);
      return original.apply(this, args);
    };
  }

  // Where Node has it (22.15 and later), kash exec becomes its command this way instead.
  const { execve } = process;
  if (typeof execve === 'function') {
    process.execve = function traced(...args) {
      record('process', args[0]);
      return execve.apply(this, args);
    };
  }

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function traced(...args) {
    record('connect', JSON.stringify(args[0]));
    return connect.apply(this, args);
  };

  const writes = {
    writeFileSync: (args) => args[0],
    appendFileSync: (args) => args[0],
    mkdirSync: (args) => args[0],
    renameSync: (args) => args[1],
    linkSync: (args) => args[1],
    unlinkSync: (args) => args[0],
    rmSync: (args) => args[0],
    chmodSync: (args) => args[0],
    fchmodSync: (args) => `fd ${args[0]}`,
    utimesSync: (args) => args[0],
    symlinkSync: (args) => args[1],
    // Flags as a string ('w', 'a+') or as numbers (O_WRONLY | O_CREAT | O_EXCL, as the store opens its files).
    openSync: (args) => {
      const flags = args[1] ?? 'r';
      const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
      const writing =
        typeof flags === 'number'
          ? (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0
          : /[wa+]/.test(String(flags));
      return writing ? args[0] : undefined;
    },
    writeSync: (args) => ([1, 2, traceFd].includes(args[0]) ? undefined : `fd ${args[0]}`),
  };
  for (const [name, target] of Object.entries(writes)) {
    const original = fs[name];
    fs[name] = function traced(...args) {
      const path = target(args);
      if (path !== undefined) record('write', path);
      return original.apply(this, args);
    };
  }
}

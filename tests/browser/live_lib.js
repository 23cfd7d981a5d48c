// live_lib.js - what the tests of the live page share: a `bise run --serve 127.0.0.1:0` in a
// fresh work directory, its port read from the line it logs, its exit code, and waiting.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const BISE = process.env.BISE_BINARY;

function workdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Start bise run with args (scenario file last) and --serve on a free loopback port.
// Resolves once the live page is up: { proc, port, url, log(), exited (Promise of code) }.
function startRun(args, opts = {}) {
  if (!BISE)
    throw new Error('BISE_BINARY is not set');
  const serve = opts.serve || '127.0.0.1:0';
  const proc = spawn(opts.command || BISE, (opts.prefix || []).concat(['run', '--serve', serve], args),
    { cwd: opts.cwd, env: { ...process.env, ...(opts.env || {}) }, stdio: [opts.stdin || 'ignore', 'pipe', 'pipe'] });
  let text = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code === null ? 128 + (os.constants.signals[sig] || 0) : code)));
  const onData = (d) => { text += d.toString(); };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const m = text.match(/live page: http:\/\/([0-9.]+):(\d+)\//);
      if (m) {
        clearInterval(poll);
        resolve({ proc, port: Number(m[2]), url: `http://${m[1]}:${m[2]}/`, log: () => text, exited });
      } else if (proc.exitCode !== null || Date.now() - started > (opts.timeout || 120000)) {
        clearInterval(poll);
        reject(new Error(`bise did not serve its live page:\n${text}`));
      }
    }, 20);
  });
}

// Poll fn until it returns a truthy value (returned) or timeout ms pass (throws, naming what).
async function waitFor(fn, timeout, what) {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v)
      return v;
    if (Date.now() - start > timeout)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// The events of a trial's log so far (a torn last line is left out).
function events(file) {
  if (!fs.existsSync(file))
    return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l));
}

module.exports = { BISE, workdir, startRun, waitFor, events };

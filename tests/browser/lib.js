// lib.js - what every browser test shares: Debian's Chromium driven by playwright-core over the
// DevTools protocol, with the flags this machine's closed network needs, a fresh profile, and a
// failure that names what went wrong. No browser is ever downloaded.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.BISE_CHROMIUM || '/usr/bin/chromium';

// Background networking, component updates and sync would try to reach Google's hosts and be
// refused; QUIC likewise. --no-sandbox: the tests run as root.
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--force-device-scale-factor=1', '--hide-scrollbars',
];

async function launch() {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found (scripts/install-deps installs Debian's chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bise-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

function check(cond, what) {
  if (!cond)
    throw new Error(`check failed: ${what}`);
}

// Runs one test body with a browser; exit code 0 on success, 1 with the error otherwise.
function run(name, body) {
  (async () => {
    const b = await launch();
    try {
      await body(b.context);
      console.log(`${name}: passed`);
    } finally {
      await b.close();
    }
  })().catch((e) => {
    console.error(`${name}: ${e.stack || e}`);
    process.exit(1);
  });
}

module.exports = { launch, check, run, CHROMIUM };

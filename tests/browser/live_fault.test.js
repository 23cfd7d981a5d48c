// live_fault.test.js - the live page of `bise run --serve` shows a fault within 1 s of its apply
// event: the test watches the trial's events.jsonl for the apply line while the page notes when
// the fault's row appears; both on this machine's clock. Null backend, real clock.
'use strict';
const fs = require('fs');
const path = require('path');
const { run, check } = require('./lib');
const { workdir, startRun, waitFor, events } = require('./live_lib');

const SCENARIO = `name: live-fault
steps:
  - at: 3s
    fault: pod-kill
    target: primary
    restart_delay: 4s
  - at: 9s
    fault: pod-kill
    target: replica
    restart_delay: 3s
  - wait: 4s
`;

run('live_fault', async (context) => {
  const dir = workdir('bise-live-fault-');
  fs.writeFileSync(path.join(dir, 'live-fault.yaml'), SCENARIO);
  const bise = await startRun(['--backend', 'null', '--state-dir', path.join(dir, 'state'), '--out', path.join(dir, 'out'),
    'live-fault.yaml'], { cwd: dir });
  const log = path.join(dir, 'out', 'live-fault', 'trial-1', 'events.jsonl');
  const page = await context.newPage();
  // The page's own record of when each fault row first appeared (wall clock, ms).
  await page.addInitScript(() => {
    window.seen = {};
    new MutationObserver(() => {
      for (const tr of document.querySelectorAll('#faults tr')) {
        const td = tr.querySelectorAll('td');
        if (td.length > 2 && !(td[2].textContent in window.seen))
          window.seen[td[2].textContent] = Date.now();
      }
    }).observe(document, { subtree: true, childList: true });
  });
  await page.goto(bise.url);
  const delays = [];
  for (const step of [0, 1]) {
    // The apply line, seen in the file within 10 ms of its write.
    const apply = await waitFor(() => events(log).find((e) => e.ev === 'fault' && e.action === 'apply' && e.step === step),
      20000, `the apply of step ${step + 1} in ${log}`);
    const written = Date.now();
    const shown = await waitFor(() => page.evaluate((n) => window.seen[n], apply.node), 3000,
      `the page to show ${apply.fault} on ${apply.node}`);
    delays.push(shown - written);
    console.log(`step ${step + 1}: ${apply.fault} on ${apply.node} shown ${shown - written} ms after its apply line was written`);
    check(shown - written < 1000, `fault shown within 1 s of its apply event (${shown - written} ms)`);
  }
  // The timeline draws the fault as a band and the countdown names the next step or none.
  check(await page.locator('#timeline rect[fill="#fde9a9"]').count() >= 1, 'a fault band on the timeline');
  // At the end the page becomes the run's report.
  const code = await bise.exited;
  check(code === 0, `bise exited 0 (got ${code}):\n${bise.log()}`);
  await waitFor(() => page.url().endsWith('/run/live-fault/report.html'), 5000, 'the page to load the report');
  await page.waitForLoadState('load');
  check((await page.title()).includes('live-fault'), `the report's title names the scenario (${await page.title()})`);
  fs.rmSync(dir, { recursive: true, force: true });
});

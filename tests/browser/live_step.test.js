// live_step.test.js - `bise run --step --serve`: each fault step waits for "next"; the page's
// Next button advances the run, nothing is applied before it, and the later deadlines move by
// the time waited (the trial's clock pauses). A POST without the header is refused. Null
// backend, real clock.
'use strict';
const fs = require('fs');
const path = require('path');
const { run, check } = require('./lib');
const { workdir, startRun, waitFor, events } = require('./live_lib');

// Step 2 is planned 3 s after step 1: after a hold of H s at step 2 it runs at 3 + H s.
const SCENARIO = `name: live-step
steps:
  - at: 1s
    fault: pod-kill
    target: primary
    restart_delay: 1s
  - at: 4s
    fault: pod-kill
    target: replica
    restart_delay: 1s
  - wait: 1s
`;

const applies = (log) => events(log).filter((e) => e.ev === 'fault' && e.action === 'apply');

run('live_step', async (context) => {
  const dir = workdir('bise-live-step-');
  fs.writeFileSync(path.join(dir, 'live-step.yaml'), SCENARIO);
  const bise = await startRun(['--step', '--backend', 'null', '--state-dir', path.join(dir, 'state'),
    '--out', path.join(dir, 'out'), 'live-step.yaml'], { cwd: dir });
  const log = path.join(dir, 'out', 'live-step', 'trial-1', 'events.jsonl');
  const page = await context.newPage();
  await page.goto(bise.url);

  // Step 1 is due at 1 s: the page says it waits, and nothing is applied while it does.
  await page.waitForSelector('#next:not([disabled])', { timeout: 15000 });
  check((await page.textContent('#countdown')) === 'waiting', 'the countdown says waiting');
  check((await page.textContent('#nextwhat')).includes('step 1: pod-kill on primary'), 'the step that waits is named');
  await page.waitForTimeout(2500);
  check(applies(log).length === 0, 'nothing applied before next');
  // Without the header (a cross-site form) the button's request is refused.
  const refused = await page.evaluate(async () => (await fetch('/next', { method: 'POST' })).status);
  check(refused === 403, `a POST without X-Bise-Action is refused (${refused})`);
  check(applies(log).length === 0, 'still nothing applied');

  let pressed = Date.now();
  await page.click('#next');
  await waitFor(() => applies(log).length === 1, 10000, 'step 1 applied after next');
  console.log(`step 1 applied ${Date.now() - pressed} ms after the click`);

  // Step 2 waits in turn; hold it 2 s.
  await page.waitForSelector('#next:not([disabled])', { timeout: 15000 });
  check((await page.textContent('#nextwhat')).includes('step 2: pod-kill on replica'), 'step 2 named');
  await page.waitForTimeout(2000);
  check(applies(log).length === 1, 'step 2 not applied before next');
  pressed = Date.now();
  await page.click('#next');
  await waitFor(() => applies(log).length === 2, 10000, 'step 2 applied after next');
  console.log(`step 2 applied ${Date.now() - pressed} ms after the click`);
  const [a1, a2] = applies(log);
  const gap = a2.t - a1.t;
  console.log(`step 2 ran ${gap.toFixed(3)} s after step 1 (planned 3 s, plus the hold)`);
  check(gap > 3 + 1.5, `later deadlines moved by the hold (${gap.toFixed(3)} s)`);

  const code = await bise.exited;
  check(code === 0, `bise exited 0 (got ${code}):\n${bise.log()}`);
  await waitFor(() => page.url().endsWith('/run/live-step/report.html'), 5000, 'the page to load the report');
  fs.rmSync(dir, { recursive: true, force: true });
});

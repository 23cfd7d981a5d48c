// report_long.test.js - a one-hour run must read at full width and zoom down to seconds:
// `bise report` on a generated one-hour log (two writers at 10/s each, a kill of the
// primary half-way, a new primary 1 s later, writes back after 12 s), then Chromium: the
// time axis reads in minutes, zooming in reads in seconds, and the outage is found again.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { run, check } = require('./lib');

const bise = process.env.BISE_BINARY;
const HOUR = 3600;

function writeRun(dir) {
  const sc = path.join(dir, 'long-run');
  fs.mkdirSync(path.join(sc, 'trial-1'), { recursive: true });
  fs.writeFileSync(path.join(sc, 'scenario.yaml'), [
    'name: long-run', 'description: a generated one-hour log, the primary killed half-way',
    'workload:', '  writers: 2', '  rate: 10', 'steps:', '  - at: 1800s', '    fault: process-kill',
    '    target: primary', 'slo:', '  failover_time: "< 30s"', ''].join('\n'));
  fs.writeFileSync(path.join(sc, 'run.json'), JSON.stringify({
    schema: 'bise.run/1', run_id: 'long', scenario_path: 'long-run.yaml', backend: 'null', versions: 'generated',
    host: 'test', seed: '1', provision_seconds: -1, trials: [{ trial: 1, completed: true, error: null }] }));
  const lines = [];
  const ev = (o) => lines.push(JSON.stringify(o));
  ev({ t: 0, ev: 'run_start', schema: 1, run: 'long', scenario: 'long-run', trial: 1, seed: '1', backend: 'null',
    host: 'test', bise: 'test', writers: 2, poll_ms: 1000 });
  const seq = [0, 0];
  for (let i = 10; i < HOUR * 10; i++) {
    const t0 = i / 10;
    for (let w = 0; w < 2; w++) {
      const s = t0 + w * 0.05, down = s >= 1800 && s < 1812;
      ev(down ? { t: +(s + 0.5).toFixed(6), ev: 'write', w, seq: ++seq[w], t0: +s.toFixed(6), out: 'fail' }
        : { t: +(s + 0.004).toFixed(6), ev: 'write', w, seq: ++seq[w], t0: +s.toFixed(6), out: 'ok',
          node: s < 1800 ? 'a' : 'b' });
    }
    if (i % 10 === 0) {
      ev({ t: t0, ev: 'node', node: 'a', role: t0 < 1800 ? 'primary' : 'down', tli: 1, lsn: '0/3000000' });
      ev({ t: t0, ev: 'node', node: 'b', role: t0 < 1801 ? 'replica' : 'primary', tli: t0 < 1801 ? 1 : 2,
        lsn: '0/3000000' });
    }
  }
  ev({ t: 1799.95, ev: 'fault', action: 'apply', fault: 'process-kill', target: 'primary', node: 'a', step: 0 });
  ev({ t: 1800.0, ev: 'fault', action: 'restart', fault: 'process-kill', target: 'primary', node: 'a', step: 0 });
  ev({ t: HOUR + 0.5, ev: 'run_end', status: 'completed' });
  fs.writeFileSync(path.join(sc, 'trial-1', 'events.jsonl'), lines.join('\n') + '\n');
  return path.join(sc, 'report.html');
}

async function axis(page) {
  return page.$$eval('#zoom-1 svg.timeline g.xaxis text', (ts) => ts.map((t) => t.textContent));
}

run('report_long', async (context) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bise-long-test-'));
  const html = writeRun(dir);
  const shots = process.env.BISE_SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'bise-shots-'));
  const errors = [];

  execFileSync(bise, ['report', dir], { stdio: 'pipe' });
  const size = fs.statSync(html).size;
  check(size < 8e6, `one hour of 100 ms bins in a page of ${size} bytes`);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto('file://' + html);
  const loaded = Date.now() - started;
  check(loaded < 15000, `loaded in ${loaded} ms`);

  let ticks = await axis(page);
  check(ticks.length >= 5 && ticks.length <= 13 && ticks.every((t) => /^\d+:\d\d$/.test(t)) &&
    ticks[ticks.length - 1] === '60:00', `whole hour in minutes: ${ticks}`);
  check(/writes unavailable for 12\.0\ds/.test(await page.textContent('#trial-1 + p.headline')), 'the outage');

  // Six zooms in around the middle: about a minute around 30:00, labelled to the second.
  for (let i = 0; i < 6; i++) await page.click('#zoom-1 button[data-zoom="in"]');
  ticks = await axis(page);
  check(ticks.length >= 5 && ticks.includes('30:00') && ticks.every((t) => /^\d+:\d\d$/.test(t)),
    `a minute in seconds: ${ticks}`);
  const labels = await page.$$eval('#zoom-1 svg.timeline text.outage-label, #zoom-1 svg.timeline text.primary-label',
    (ts) => ts.filter((t) => t.style.display !== 'none').map((t) => t.textContent));
  check(labels.some((l) => /writes unavailable 12\.0\ds/.test(l)) && labels.some((l) => /new primary b/.test(l)),
    `the outage and the new primary labelled when zoomed: ${labels}`);
  await page.evaluate(() => document.getElementById('zoom-1').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'report-long-zoomed.png') });
  await page.click('#zoom-1 button[data-zoom="reset"]');
  await page.screenshot({ path: path.join(shots, 'report-long.png') });
  check(errors.length === 0, `console errors: ${errors.join('; ')}`);
  console.log(`report_long: screenshots in ${shots}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

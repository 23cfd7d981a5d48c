// report.test.js - report.html as a person uses it, in Debian's Chromium: `bise report` rebuilds
// the page from a real local-backend run (etcd v3 frozen primary: Patroni 3.0.2 gave the leader
// key back to the thawed old primary and 3,163 writes acknowledged on gland were lost). The page
// must load with no console error and no request outside file://, show the lost writes on
// gland's lane where they were acknowledged (while gland was primary, on timeline 2), name the
// rollback and the second outage, and zoom and pan its time axis with the buttons, the wheel,
// a drag and a reset. Screenshots go to BISE_SCREENSHOT_DIR (default: a temporary directory).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { run, check } = require('./lib');

const src = process.env.BISE_SOURCE_DIR;
const bise = process.env.BISE_BINARY;

// A copy of the fixture run, its reports rebuilt by the binary under test.
function buildReport() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bise-report-test-'));
  fs.cpSync(path.join(src, 'tests/unit/data/run-frozen-v3'), dir, { recursive: true });
  try {
    execFileSync(bise, ['report', dir], { stdio: 'pipe' });
  } catch (e) {
    // Exit code 1: the run failed its SLOs (data_loss), which is what the fixture shows.
    if (e.status !== 1)
      throw new Error(`bise report failed (${e.status}): ${e.stderr}`);
  }
  return dir;
}

// The visible time range of trial 1's charts, from the timeline's inner plot.
async function range(page) {
  return page.evaluate(() => {
    const vb = document.querySelector('#zoom-1 svg.timeline svg.plot').viewBox.baseVal;
    const all = Array.from(document.querySelectorAll('#zoom-1 svg.plot')).map((p) => p.viewBox.baseVal.x);
    return { t0: vb.x, t1: vb.x + vb.width, together: all.every((x) => Math.abs(x - vb.x) < 1e-9) };
  });
}

// Wheel and drag redraw once per animation frame: wait for the next one.
async function frame(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

async function ticks(page) {
  return page.$$eval('#zoom-1 svg.timeline g.xaxis text', (ts) => ts.map((t) => t.textContent));
}

run('report', async (context) => {
  const dir = buildReport();
  const shots = process.env.BISE_SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'bise-shots-'));
  const html = path.join(dir, 'frozen-primary-v3', 'report.html');
  const page = await context.newPage();
  const errors = [], requests = [];

  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) requests.push(r.url()); });
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto('file://' + html);

  // What explains the failure is in the headline.
  const headline = await page.textContent('#trial-1 + p.headline');
  check(/rollback: geneva primary again on older timeline 1 \(after 2\)/.test(headline), `rollback named: ${headline}`);
  check(/second outage: writes unavailable again for 6\.20s from 31\.01s/.test(headline), 'second outage named');
  check(/3163 acknowledged writes lost \(3163 acknowledged by gland\)/.test(headline), 'loss by node');
  check(!/n\/a/.test(headline), 'no metric the local backend cannot have');

  // Lost writes: marks on gland's lane only, between gland's promotion (22.9 s) and the thaw.
  const lost = await page.$$eval('#zoom-1 rect.lost', (rs) => rs.map((r) => ({
    node: r.getAttribute('data-node'), n: +r.getAttribute('data-n'), t: +r.getAttribute('x') })));
  check(lost.length > 30, `lost-write marks drawn (${lost.length})`);
  check(lost.every((m) => m.node === 'gland'), 'every mark on gland');
  check(lost.reduce((s, m) => s + m.n, 0) === 3163, 'the marks add up to the lost writes');
  check(lost.every((m) => m.t >= 22.8 && m.t <= 31.2), 'marks while gland was primary');
  const lanes = await page.$$eval('#zoom-1 .lane-name', (ts) => ts.map((t) => t.textContent));
  check(lanes.join() === 'failover,lost on gland', `lanes: ${lanes}`);
  check(await page.$('#zoom-1 rect.phase.promotion') !== null, 'promotion phase drawn');
  check(await page.$('#zoom-1 line.healthy') !== null, 'healthy mark drawn');
  const lag = await page.textContent('#zoom-1 svg.lag');
  check(/KiB/.test(lag) && !/e\+/.test(lag), 'lag in KiB');
  // The README's picture (docs/report.png): the verdicts down to the end of trial 1's timeline.
  await page.screenshot({ path: path.join(shots, 'report-page.png'), fullPage: true,
    clip: await page.evaluate(() => {
      const b = document.querySelector('#zoom-1 svg.timeline').getBoundingClientRect();
      return { x: 0, y: 0, width: 1160, height: b.bottom + window.scrollY + 12 };
    }) });
  await page.screenshot({ path: path.join(shots, 'report-trial.png'), fullPage: false,
    clip: await page.evaluate(() => {
      const a = document.getElementById('trial-1').getBoundingClientRect();
      const b = document.querySelector('#zoom-1 svg.timeline').getBoundingClientRect();
      return { x: 0, y: a.top + window.scrollY - 8, width: 1180, height: b.bottom - a.top + 16 };
    }) });

  // Zoom: the buttons halve the range around its middle, all charts together.
  const full = await range(page);
  check(full.t0 === 0 && full.t1 > 52 && full.t1 < 53, `whole run shown first: ${JSON.stringify(full)}`);
  await page.click('#zoom-1 button[data-zoom="in"]');
  await page.click('#zoom-1 button[data-zoom="in"]');
  let r = await range(page);
  check(Math.abs(r.t1 - r.t0 - full.t1 / 4) < 1e-6 && r.together, `zoomed in x4: ${JSON.stringify(r)}`);
  check((await ticks(page)).length >= 5, 'the zoomed axis has its own ticks');
  check(await page.textContent('#zoom-1 .zoom-range') === `${r.t0.toFixed(1)} s to ${r.t1.toFixed(1)} s of ${full.t1.toFixed(1)} s`,
    'the range is written out');
  await page.click('#zoom-1 button[data-zoom="right"]');
  const r2 = await range(page);
  check(r2.t0 > r.t0 && Math.abs((r2.t1 - r2.t0) - (r.t1 - r.t0)) < 1e-6, 'panned right');

  // Ctrl+wheel zooms around the pointer: the time under it stays under it.
  const box = await page.$eval('#zoom-1 svg.timeline', (s) => { const b = s.getBoundingClientRect(); return { x: b.x, y: b.y }; });
  await page.click('#zoom-1 button[data-zoom="reset"]');
  const px = box.x + 110 + (1100 - 126) * (25 / full.t1); // 25 s on the whole-run axis
  await page.mouse.move(px, box.y + 150);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -400);
  await page.keyboard.up('Control');
  await page.waitForFunction(() => document.querySelector('#zoom-1 svg.plot').viewBox.baseVal.width < 50);
  r = await range(page);
  const under = r.t0 + (25 / full.t1) * (r.t1 - r.t0);
  check(r.t1 - r.t0 < full.t1 / 1.5 && Math.abs(under - 25) < 0.5, `wheel zoom around 25 s: ${JSON.stringify(r)}`);
  // A plain wheel scrolls the page, not the chart.
  await page.mouse.wheel(0, 100);
  await frame(page);
  const same = await range(page);
  check(same.t0 === r.t0 && same.t1 === r.t1, 'plain wheel leaves the zoom alone');

  // Drag pans: dragging 200 px right shows earlier times.
  const before = await range(page);
  await page.mouse.move(px, box.y + 150);
  await page.mouse.down();
  await page.mouse.move(px + 200, box.y + 150, { steps: 5 });
  await page.mouse.up();
  await frame(page);
  r = await range(page);
  check(r.t0 < before.t0 && Math.abs((r.t1 - r.t0) - (before.t1 - before.t0)) < 1e-6, 'dragged to earlier times');

  // Zoomed on the loss: the marks and labels still where they belong.
  await page.click('#zoom-1 button[data-zoom="reset"]');
  for (let i = 0; i < 2; i++) await page.click('#zoom-1 button[data-zoom="in"]');
  await page.evaluate(() => document.getElementById('zoom-1').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'report-zoomed.png'), clip: await page.evaluate(() => {
    const b = document.querySelector('#zoom-1').getBoundingClientRect();
    return { x: 0, y: b.top + window.scrollY, width: 1180, height: 420 };
  }), fullPage: true });
  await page.dblclick('#zoom-1 svg.timeline', { position: { x: 500, y: 100 } });
  r = await range(page);
  check(r.t0 === 0 && Math.abs(r.t1 - full.t1) < 1e-9, 'double-click shows the whole run');

  check(errors.length === 0, `console errors: ${errors.join('; ')}`);
  check(requests.length === 0, `requests outside file://: ${requests.join(', ')}`);
  console.log(`report: screenshots in ${shots}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

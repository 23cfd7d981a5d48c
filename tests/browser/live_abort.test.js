// live_abort.test.js - a game day on the real local backend, from the browser: the live page of
// `bise run --serve` during a latency fault and a partition of the primary (screenshot taken
// mid-run, after the failover), then Abort. The run must revert everything through the SIGINT
// path: exit code 5, reports written, the page turned into the report, and nothing left behind:
// no network namespace, nftables table, iptables rule, link, cgroup or process of the cluster.
// Root only (a failure under CI=true, a skip elsewhere); runs under /tmp/bise-itest.lock.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { run, check } = require('./lib');
const { workdir, startRun, waitFor } = require('./live_lib');

const LOCK = '/tmp/bise-itest.lock';
const CLUSTER = 'bisebrw';

if (!process.env.BISE_ITEST_LOCKED) {
  if (process.getuid() !== 0) {
    const ci = process.env.CI && !['', '0', 'false'].includes(process.env.CI);
    console.error(`live_abort: needs root (the local backend)${ci ? ': failing under CI' : ', skipped'}`);
    process.exit(ci ? 1 : 0);
  }
  // One local cluster at a time across the machine's tests: hold the lock for the whole test,
  // unless whoever started us holds it already (`flock LOCK ctest ...`: waiting would deadlock).
  if (!heldByAncestor(LOCK)) {
    const r = spawnSync('flock', [LOCK, process.execPath, __filename], { stdio: 'inherit', env: { ...process.env, BISE_ITEST_LOCKED: '1' } });
    process.exit(r.status === null ? 1 : r.status);
  }
}

// Whether a process among our ancestors holds the flock on file (from /proc/locks).
function heldByAncestor(file) {
  let inode;
  try { inode = fs.statSync(file).ino; } catch (e) { return false; }
  const holders = fs.readFileSync('/proc/locks', 'utf8').split('\n')
    .map((l) => l.split(/\s+/)).filter((f) => f[1] === 'FLOCK' && f[5] && Number(f[5].split(':')[2]) === inode)
    .map((f) => Number(f[4]));
  for (let pid = process.ppid; pid > 1;) {
    if (holders.includes(pid))
      return true;
    try { pid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]); } catch (e) { return false; }
  }
  return false;
}

const SCENARIO = `name: live-abort
cluster:
  name: ${CLUSTER}
  subnet: 10.213.77.0/24
  replication: synchronous
workload:
  writers: 4
  rate: 50
steps:
  - at: 4s
    fault: latency
    target: replica
    delay: 20ms
    duration: 120s
  - at: 6s
    fault: network-partition
    target: primary
    duration: 120s
  - wait: healthy
    timeout: 150s
`;

const sh = (cmd) => { try { return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }); } catch (e) { return e.stdout || ''; } };

// What the cluster could leave behind, as text to compare before and after.
function traces(stateDir) {
  return {
    netns: sh('ip netns list').split('\n').filter((l) => l.startsWith(`bise-${CLUSTER}-`)),
    nft: sh('nft list tables').split('\n').filter((l) => l.includes('bise_')),
    iptables: sh('iptables-save').split('\n').filter((l) => l.includes('bise:')),
    links: sh('ip -o link show').split('\n').map((l) => l.split(':')[1]).filter((l) => l && /bsbr-|bise/.test(l)),
    cgroup: fs.existsSync(`/sys/fs/cgroup/bise/${CLUSTER}`) ? [`/sys/fs/cgroup/bise/${CLUSTER}`] : [],
    procs: sh('ps -eo pid=,args=').split('\n').filter((l) => l.includes(stateDir) || l.includes('bise-netdelay')),
  };
}

run('live_abort', async (context) => {
  const dir = workdir('bise-live-abort-');
  fs.chmodSync(dir, 0o755); // the postgres user must traverse it
  const state = path.join(dir, 'state'), out = path.join(dir, 'out');
  fs.writeFileSync(path.join(dir, 'live-abort.yaml'), SCENARIO);
  const before = traces(state);
  const bise = await startRun(['--state-dir', state, '--out', out, 'live-abort.yaml'], { cwd: dir });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept()); // the Abort button asks first
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) console.log(`page at ${f.url()}`); });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(bise.url);
  try {
    // Both faults in force, then the failover: a new primary on a newer timeline.
    await waitFor(async () => (await page.locator('#faults tr').count()) >= 3, 120000, 'two faults in force on the page');
    const first = await page.evaluate(() => st.primary);
    console.log(`faults in force; primary before: ${first}`);
    await waitFor(() => page.evaluate(() => st && st.timeline >= 2 && st.primary !== ''), 60000, 'the failover on the page');
    // Writes acknowledged again by the new primary, if they come back soon: the picture a person needs.
    await waitFor(() => page.evaluate(() => st.ok_s > 0 && st.failover && !st.failover.open), 30000, 'writes back')
      .catch(() => console.log('writes not back within 30 s of the failover; screenshot anyway'));
    await page.waitForTimeout(2500);
    const shots = path.join(process.env.BISE_BINARY_DIR || dir, 'browser-out');
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'live-midrun.png'), fullPage: true });
    const st = await page.evaluate(() => st);
    console.log(`mid-run: phase ${st.phase}, primary ${st.primary} (tl ${st.timeline}), ${st.ok_s} ok/s, ${st.err_s} errors/s, ` +
      `faults ${st.faults.map((f) => `${f.fault}@${f.node} ${f.remaining.toFixed(0)}s left`).join(', ')}, ` +
      `lag ${st.lag.map((g) => `${g.standby}=${g.bytes}`).join(', ')}, failover ${st.failover && st.failover.seconds}`);
    check(st.faults.length === 2, 'two faults in force');
    check(st.writes.ok > 0, 'acknowledged writes counted');

    const pressed = Date.now();
    await page.click('#abort');
    const code = await Promise.race([bise.exited, new Promise((r) => setTimeout(() => r('timeout'), 180000))]);
    console.log(`bise exited ${code} ${((Date.now() - pressed) / 1000).toFixed(1)} s after Abort`);
    check(code === 5, `exit code 5 after abort (got ${code}):\n${bise.log()}`);
  } catch (e) {
    bise.proc.kill('SIGINT');
    await bise.exited;
    throw e;
  }
  for (const f of ['report.html', 'summary.json', 'junit.xml', 'trial-1/events.jsonl'])
    check(fs.existsSync(path.join(out, 'live-abort', f)), `${f} written`);
  check(fs.existsSync(path.join(out, 'index.html')), 'index.html written');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'live-abort', 'summary.json'), 'utf8'));
  console.log(`summary: ${JSON.stringify(summary).slice(0, 200)}`);
  const events = fs.readFileSync(path.join(out, 'live-abort', 'trial-1', 'events.jsonl'), 'utf8');
  check(events.includes('"ev":"run_end","status":"interrupted"'), 'the log ends as an interrupted run');
  check((events.match(/"action":"revert"/g) || []).length === 2, 'both faults reverted in the log');
  await waitFor(() => page.url().endsWith('/run/live-abort/report.html'), 10000, 'the page to load the report');
  await page.waitForLoadState('load');
  check((await page.title()).includes('live-abort'), `the page is the report now (${await page.title()})`);
  const after = traces(state);
  for (const k of Object.keys(after)) {
    const left = after[k].filter((x) => !before[k].includes(x));
    console.log(`left behind (${k}): ${left.length ? left.join(' | ') : 'nothing'}`);
    check(left.length === 0, `nothing left behind: ${k}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

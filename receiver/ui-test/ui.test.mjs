// Browser test for the receiver UI: a real sandwatch-receiver process, Debian's
// chromium driven by playwright-core. Exit 0 = pass, 1 = fail, 77 = skipped.
//
// Env: RECEIVER_BIN (path to sandwatch-receiver), DATA_DIR (receiver/tests/data),
//      SCREENSHOT (where to save the PNG), CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const SKIP = 77;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const bin = process.env.RECEIVER_BIN;
if (!bin || !existsSync(bin)) { console.log('SKIP: RECEIVER_BIN not set or missing'); process.exit(SKIP); }
if (!existsSync(chromiumPath)) { console.log('SKIP: no chromium at ' + chromiumPath); process.exit(SKIP); }
let chromium;
try { ({ chromium } = await import('playwright-core')); } catch (e) {
  console.log('SKIP: playwright-core is not installed (run scripts/install-deps)'); process.exit(SKIP);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await fn()) return; } catch (e) { /* retry */ }
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(100);
  }
}
function check(cond, msg) { if (!cond) throw new Error('check failed: ' + msg); }

const dir = mkdtempSync(join(tmpdir(), 'sw-ui-'));
const ready = join(dir, 'ready');
const proc = spawn(bin, ['--listen', '127.0.0.1:0', '--db', join(dir, 'events.db'), '--ready-file', ready,
  '--sync-normal', '--silence-check', '0.2'], { stdio: ['ignore', 'inherit', 'inherit'] });
let browser;
let failed = false;

const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString();
function event(rule, seq, opts = {}) {
  return {
    schema: 'sandwatch.event/v1', id: randomUUID(), seq, time: iso(opts.ago || 0), rule,
    priority: opts.priority || 'Warning', output: opts.output || `${rule} in kata-app`,
    tags: opts.tags || ['mitre_execution'],
    sensor: { id: opts.sensor || 'kata-app-sidecar', mode: 'sidecar', capture: opts.capture || 'poll', version: '0.1.0' },
    k8s: { pod: opts.pod || 'kata-app', namespace: 'kata-demo' }, hostname: 'kata-node-1',
    process: { pid: 4000 + seq, ppid: 3999, name: opts.cmd[0], exe: '/usr/bin/' + opts.cmd[0], cmdline: opts.cmd, uid: 0, cwd: '/app' },
    parent: { pid: 3999, name: 'bash', cmdline: ['bash', '-i'] },
    ancestors: [{ pid: 1, name: 'sh' }],
    ...(opts.file ? { file: { path: opts.file } } : {}),
    ...(opts.conn ? { connection: { proto: 'tcp', local: '127.0.0.1:51514', remote: opts.conn } } : {}),
    detection: { method: opts.capture || 'poll', lag_ms: 4.2 },
  };
}

try {
  await waitFor('receiver ready file', () => existsSync(ready) && readFileSync(ready, 'utf8').includes(':'), 30000);
  const base = 'http://' + readFileSync(ready, 'utf8').trim();
  const post = async (path, body) => {
    const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    check(r.status === 202, `POST ${path} -> ${r.status} ${await r.text()}`);
  };
  const count = async (q) => (await (await fetch(base + '/api/events?limit=1&' + q)).json()).statistics.all;

  // Seed a realistic picture: the blog's chain over the last half hour, two sensors,
  // one of which goes silent, a seq gap, and a Falco alert.
  const chain = [
    ['unexpected_shell', 'Warning', ['bash', '-i'], {}],
    ['shadow_file_access', 'Warning', ['tail', '-f', '/etc/shadow'], { file: '/etc/shadow' }],
    ['aws_credential_discovery', 'Critical', ['cat', '/root/.aws/credentials'], { file: '/root/.aws/credentials' }],
    ['package_manager_execution', 'Error', ['apt-get', 'install', '-y', 'ncat'], {}],
    ['post_start_binary_execution', 'Critical', ['/usr/bin/ncat', '--version'], {}],
    ['nc_execution', 'Critical', ['ncat', '127.0.0.1', '4444', '-e', '/bin/sh'], { conn: '127.0.0.1:4444' }],
  ];
  let seq = 0;
  const batch = [];
  for (let round = 0; round < 9; round++) {
    for (const [i, [rule, priority, cmd, extra]] of chain.entries()) {
      if (round % 3 === 1 && i % 2 === 1) continue;
      seq++;
      if (seq === 20) seq++;  // a lost event: seq 20 never arrives
      batch.push(event(rule, seq, { priority, cmd, ago: (27 - round * 3) * 60000 + i * 7000, ...extra }));
    }
  }
  await post('/events', batch);
  await post('/heartbeat', { schema: 'sandwatch.heartbeat/v1', sensor: { id: 'kata-app-sidecar', mode: 'sidecar', capture: 'poll', version: '0.1.0' },
    time: iso(0), last_seq: seq, interval_s: 600, k8s: { pod: 'kata-app', namespace: 'kata-demo' }, hostname: 'kata-node-1',
    counters: { scans: 912, processes_seen: 57, events_emitted: seq, events_suppressed: 3, events_dropped: 0, cmdline_unreadable: 1, netlink_overflows: 0, spool_bytes: 0 } });
  await post('/heartbeat', { schema: 'sandwatch.heartbeat/v1', sensor: { id: 'node-guest-init', mode: 'node', capture: 'netlink+fanotify', version: '0.1.0' },
    time: iso(0), last_seq: 0, interval_s: 0.3, k8s: { pod: 'kata-app', namespace: 'kata-demo' }, hostname: 'kata-guest',
    counters: { scans: 0, processes_seen: 211, events_emitted: 0, events_suppressed: 0, events_dropped: 0, cmdline_unreadable: 0, netlink_overflows: 2, spool_bytes: 0 } });
  await post('/', readFileSync(join(process.env.DATA_DIR, 'falcosidekick_webhook.json'), 'utf8'));
  await waitFor('node-guest-init to go silent', async () => (await count('rule=sensor_silent')) === 1);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1180 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(base)) problems.push('external request: ' + r.url()); });
  await page.goto(base + '/');
  const rows = page.locator('#events tbody tr');
  const total = await count('');
  await waitFor('the table to fill', async () => (await rows.count()) === Math.min(50, total));
  await waitFor('the live stream to connect', async () => (await page.textContent('#live')) === 'live');
  check((await page.locator('#sensors tbody .status').count()) === 2, 'two sensors listed');
  await waitFor('a silent sensor shown', async () => (await page.locator('#sensors .status-silent').count()) === 1);
  await waitFor('the timeline chart drawn', async () => (await page.locator('#timeline svg rect').count()) > 0);
  check((await page.locator('#legend').textContent()).includes('nc_execution'), 'timeline legend names the rules');

  // 1. An event posted after load appears live, without a reload.
  const probe = event('reverse_shell', 999, { priority: 'Critical', cmd: ['bash', '-i'], conn: '127.0.0.1:4444', output: 'live probe ' + randomUUID() });
  await post('/events', probe);
  await waitFor('the posted event to appear live', async () => (await page.locator('#events tbody tr', { hasText: probe.output }).count()) === 1);

  // 2. A <script> command line is shown as text and never runs.
  const evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
  const xss = event('unexpected_shell', 1000, { cmd: ['sh', '-c', evil], output: 'xss probe <b>not bold</b>' });
  await post('/events', xss);
  const xssRow = page.locator('#events tbody tr', { hasText: 'xss probe' });
  await waitFor('the <script> event to appear', async () => (await xssRow.count()) === 1);
  check((await xssRow.locator('td.proc').textContent()).includes('<script>window.__pwned=1</script>'), 'cmdline shown as text');
  check((await xssRow.locator('td.output').textContent()) === 'xss probe <b>not bold</b>', 'output shown as text');
  check((await page.locator('#events script, #events img, #events b').count()) === 0, 'no elements injected');
  await xssRow.click();
  await waitFor('the detail drawer', async () => await page.isVisible('#detail'));
  check((await page.textContent('#d-body')).includes('Parent chain'), 'detail shows the parent chain');
  check((await page.textContent('#d-body')).includes(evil), 'raw JSON shows the cmdline as text');
  await page.click('#d-close');
  await waitFor('the drawer to close', async () => !(await page.isVisible('#detail')));
  await sleep(300);
  check((await page.evaluate(() => window.__pwned)) === undefined, 'injected script did not run');

  // 3. A filter narrows the table to matching rows, and matches the API.
  await page.selectOption('#f-rule', 'nc_execution');
  const want = await count('rule=nc_execution');
  await waitFor('the rule filter', async () => {
    const rules = await page.locator('#events tbody td.rule').allTextContents();
    return rules.length === want && rules.every((r) => r === 'nc_execution');
  });
  check(page.url().includes('rule=nc_execution'), 'filter kept in the URL');
  // Live events that do not match the filter are not added.
  await post('/events', event('shadow_file_access', 1001, { cmd: ['cat', '/etc/shadow'] }));
  await sleep(500);
  check((await page.locator('#events tbody td.rule').allTextContents()).every((r) => r === 'nc_execution'), 'non-matching live event hidden');
  await page.selectOption('#f-rule', '');
  await waitFor('the filter reset', async () => (await rows.count()) === 50);

  check(problems.length === 0, 'no page errors, console errors or external requests: ' + problems.join('; '));
  if (process.env.SCREENSHOT) {
    await page.mouse.move(0, 0);
    await sleep(2000);  // let the highlight fade
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
    console.log('screenshot: ' + process.env.SCREENSHOT);
  }
  console.log('PASS: receiver UI (live update, <script> escaped, filter, detail, sensors)');
} catch (e) {
  failed = true;
  console.error('FAIL: ' + e.message);
} finally {
  if (browser) await browser.close();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

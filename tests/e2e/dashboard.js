// The dashboard in headless Chromium (driven by test_dashboard.sh, which has the pipeline
// count dashboard.jsonl and starts `csmetrics dashboard`): the figures shown equal those
// derived by hand in dashboard.jsonl's comments, the agent table sorts, and the alert of
// dashboard_live.jsonl appears in the feed without a reload.
//
// Environment: DASH_URL (the dashboard's root), CSM_BIN and CSM_CFG (to produce the live
// event), REDIS_PORT, LIVE_FILE, SCREENSHOT and SCREENSHOT_PHONE (PNG paths), CHROMIUM (default
// /usr/bin/chromium).
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const PAGE = `${env('DASH_URL')}?shop=s1&day=2026-11-20`;
const failures = [];

function expect(what, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${JSON.stringify(got)}${ok ? '' : ` (want ${JSON.stringify(want)})`}`);
  if (!ok) failures.push(what);
}

const text = (page, sel) => page.locator(sel).first().innerText();
const card = (page, name) => text(page, `[data-figure="${name}"] .value`);
const cardClass = (page, name) =>
  page.locator(`#cards [data-figure="${name}"]`).getAttribute('class').then((c) => c.trim());

// The counts the hourly chart holds for one series (what its bars show).
function hourly(page, series) {
  return page.evaluate((s) => {
    const canvas = [...document.querySelectorAll('#charts canvas')]
      .find((c) => c.dataset.series.split(' ').includes(s));
    return Chart.getChart(canvas).data.datasets.find((d) => d.key === s).data;
  }, series);
}

const alertRows = (page) => page.$$eval('#alerts li[data-type]', (lis) => lis.map((li) =>
  [li.querySelector('.time').textContent, li.dataset.type, li.querySelector('.detail').textContent]));

async function checkBoard(page) {
  expect('card sessions_started', await card(page, 'sessions_started'), '8');
  expect('card pickup_rate', await card(page, 'pickup_rate'), '80.0%');
  expect('card first_reply_2m_rate', await card(page, 'first_reply_2m_rate'), '40.0%');
  expect('card first_reply_2m_rate colour', await cardClass(page, 'first_reply_2m_rate'), 'card bad');
  expect('card unserved_rate', await card(page, 'unserved_rate'), '40.0%');
  expect('card unserved_rate colour', await cardClass(page, 'unserved_rate'), 'card bad');
  expect('card satisfaction_rate', await card(page, 'satisfaction_rate'), '80.0%');
  expect('card satisfaction_rate colour', await cardClass(page, 'satisfaction_rate'), 'card ok');
  expect('card avg_queue_ms', await card(page, 'avg_queue_ms'), '15.0 s');
  expect('card avg_first_resp_ms', await card(page, 'avg_first_resp_ms'), '1 min 03 s');
  const sessions = await hourly(page, 'sessions_started');
  expect('hourly sessions_started at 07, 09, 12, 13',
    [sessions[7], sessions[9], sessions[12], sessions[13]], [0, 2, 2, 2]);
  const a1 = (f) => text(page, `#agents tr[data-agent="a1"] td[data-figure="${f}"]`);
  expect('agent a1 assigned', await a1('assigned'), '2');
  expect('agent a1 satisfaction_rate', await a1('satisfaction_rate'), '100.0%');
  expect('agent a1 avg_first_resp_ms', await a1('avg_first_resp_ms'), '1 min 20 s');
  expect('intents by sessions', await page.$$eval('#intents-sessions tr[data-intent]', (rows) =>
    rows.map((r) => [r.dataset.intent, r.children[1].textContent])), [['delivery', '3'], ['size', '2'], ['refund', '1']]);
  expect('top contribution', await text(page, '#intents-contribution tr[data-intent] [data-figure]'), '100.0%');
  expect('alerts, newest first, in the shop zone', await alertRows(page), [
    ['11-20 13:02:10', 'FIRST_RESPONSE_TIMEOUT', 'customer c5 · agent a2 · waited 2 min 00 s · day 2026-11-20'],
    ['11-20 13:01:00', 'UNSERVED', 'customer c5 · agent a2 · waited 50.0 s · day 2026-11-20'],
    ['11-20 12:02:10', 'FIRST_RESPONSE_TIMEOUT', 'customer c4 · waited 2 min 00 s · day 2026-11-20'],
    ['11-20 12:00:40', 'NOT_PICKED_UP', 'customer c4 · waited 30.0 s · day 2026-11-20'],
    ['11-20 11:02:00', 'DISSATISFIED', 'customer c3 · agent a2 · 2 ★ · day 2026-11-20'],
    ['11-20 10:02:10', 'FIRST_RESPONSE_TIMEOUT', 'customer c2 · agent a1 · waited 2 min 00 s · day 2026-11-20'],
  ]);
}

async function checkSortAndBlocks(page) {
  const agentOrder = () => page.$$eval('#agents tbody tr', (rows) => rows.map((r) => r.dataset.agent));
  const heading = page.locator('#agents th[data-sort="satisfaction_rate"]');
  await heading.click(); // a new column sorts high to low
  expect('agents by satisfaction, descending', await agentOrder(), ['a1', 'a2']);
  await heading.click();
  expect('agents by satisfaction, ascending', await agentOrder(), ['a2', 'a1']);
  await page.click('[data-block="allday"]');
  expect('all-day sessions_started', await card(page, 'sessions_started'), '9');
  expect('all-day hourly sessions_started at 07', (await hourly(page, 'sessions_started'))[7], 1);
  await page.click('[data-block="board"]');
}

async function checkLiveAlert(page) {
  await page.evaluate(() => { window.notReloaded = true; });
  execFileSync(env('CSM_BIN'), ['produce', '-c', env('CSM_CFG'), env('LIVE_FILE')], { stdio: 'inherit' });
  await page.waitForFunction(() => document.querySelectorAll('#alerts li[data-type]').length === 7, null,
    { timeout: 30000 });
  expect('live alert on top', (await alertRows(page))[0],
    ['11-20 15:30:00', 'DISSATISFIED', 'customer c8 · 1 ★ · day 2026-11-20']);
  expect('page not reloaded', await page.evaluate(() => window.notReloaded === true), true);
  // The alert's flush also counted the rating: the page reloads the figures on its own.
  await page.waitForFunction(() =>
    document.querySelector('[data-figure="satisfaction_rate"] .value').textContent === '66.7%', null,
  { timeout: 10000 }).catch(() => {});
  expect('card satisfaction_rate after the rating', await card(page, 'satisfaction_rate'), '66.7%');
  expect('card satisfaction_rate colour after', await cardClass(page, 'satisfaction_rate'), 'card bad');
  expect('hourly rated at 13 after the rating', (await hourly(page, 'rated'))[13], 1);
}

// The feed's Redis connections dropped (CLIENT KILL of every XREAD): the stream ends, the
// browser reconnects, and the feed is live again.
async function checkReconnect(page) {
  const port = env('REDIS_PORT');
  const clients = execFileSync('redis-cli', ['-p', port, 'client', 'list'], { encoding: 'utf8' });
  const feeds = clients.split('\n').filter((l) => / cmd=xread /.test(l)).map((l) => /\baddr=(\S+)/.exec(l)[1]);
  expect('feed connections in Redis (page and curl)', feeds.length, 2);
  for (const addr of feeds) execFileSync('redis-cli', ['-p', port, 'client', 'kill', addr]);
  const off = await page.waitForSelector('#live:not(.on)', { timeout: 5000 }).then(() => true, () => false);
  expect('feed shown as disconnected', off, true);
  const on = await page.waitForSelector('#live.on', { timeout: 15000 }).then(() => true, () => false);
  expect('feed live again', on, true);
}

async function ready(page) {
  await page.goto(PAGE);
  await page.waitForSelector('#live.on', { timeout: 15000 });
  await page.waitForSelector('#alerts li[data-type]', { timeout: 15000 });
}

async function checkPhone(browser) {
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    timezoneId: 'UTC', locale: 'en-US',
  });
  const page = await phone.newPage();
  await ready(page);
  expect('phone: no sideways scrolling', await page.evaluate(() =>
    document.documentElement.scrollWidth <= window.innerWidth), true);
  await page.screenshot({ path: env('SCREENSHOT_PHONE'), fullPage: true });
  await phone.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  try {
    // UTC in the browser: the shop's zone (Asia/Shanghai) must come from the server.
    const laptop = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    const page = await laptop.newPage();
    page.on('pageerror', (e) => { failures.push(`page error: ${e.message}`); console.log(`page error: ${e.message}`); });
    await ready(page);
    await checkBoard(page);
    await checkSortAndBlocks(page);
    await checkLiveAlert(page);
    await page.screenshot({ path: env('SCREENSHOT'), fullPage: true });
    await checkReconnect(page);
    await checkPhone(browser);
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.log(`${failures.length} check(s) failed: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });

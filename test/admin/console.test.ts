/**
 * The web console in a real headless browser (Debian's chromium driven by playwright-core) on a
 * real 3-member TestingCluster: the page shows the member's mode and the root's children with no
 * interaction; live charts of ops/s, latency and znodes fill in; browsing shows a znode's data (text, JSON, hex), Stat and ACL; data an anonymous
 * client may not read stays hidden; writes need a digest login and ZooKeeper's ACLs decide them
 * (create with a chosen ACL, edit, delete after a confirmation); a follower's page shows the new leader after the
 * leader is killed; a late answer to the page's periodic reload never undoes a click. Screenshots go to
 * test-artifacts/console/ (TSZK_ARTIFACTS_DIR overrides the base).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { CREATOR_ALL_ACL, ZooKeeperClient } from '../../src/client/index.js';
import { TestingCluster, TestingServer } from '../../src/testing/index.js';
import { skipUnless } from '../support/target.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = skipUnless(fs.existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install chromium)`);
const artifacts = path.resolve(process.env['TSZK_ARTIFACTS_DIR'] ?? 'test-artifacts', 'console');

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

test('browse a live ensemble in chromium; the leader change shows', { skip, timeout: 180_000 }, async () => {
  await using cluster = await TestingCluster.start({ size: 3 });
  const leader = await cluster.leader();
  const follower = cluster.members.find((m) => m.id !== leader.id)!;
  const zk = await ZooKeeperClient.connect(cluster.connectString);
  await zk.create('/app', JSON.stringify({ name: 'tszk', replicas: 3 }));
  await zk.create('/app/config', 'plain text');
  await zk.addAuth('digest', 'alice:secret');
  await zk.create('/secret', 'do not show', { acl: CREATOR_ALL_ACL });
  await zk.sync('/');
  await zk.close();

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(`http://127.0.0.1:${follower.adminPort}/`);
    // No interaction: the mode and the root's children.
    await page.waitForFunction(() => document.getElementById('mode')?.textContent === 'follower');
    await page.waitForSelector('#children a[data-path="/app"]');
    const children = await page.$$eval('#children a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(children, ['app', 'secret', 'zookeeper']);
    assert.match((await page.textContent('#leader')) ?? '', new RegExp(`leader: ${leader.id}`));
    assert.equal(await page.$$eval('#members tr', (rows) => rows.length), 3);
    await shot(page, '1-root');

    await page.click('#children a[data-path="/app"]');
    await page.waitForFunction(() => document.getElementById('path')?.textContent === '/app');
    assert.equal(await page.textContent('#data'), '{"name":"tszk","replicas":3}');
    await page.selectOption('#as', 'json');
    assert.match((await page.textContent('#data')) ?? '', /^\{\n {2}"name": "tszk",/);
    await page.selectOption('#as', 'hex');
    assert.match((await page.textContent('#data')) ?? '', /^7b 22 6e 61 6d 65 22/);
    await page.selectOption('#as', 'text');
    const stat = Object.fromEntries(await page.$$eval('#stat tr', (rows) => rows.map((r) => [r.children[0]!.textContent, r.children[1]!.textContent])));
    assert.equal(stat['numChildren'], '1');
    assert.equal(stat['version'], '0');
    assert.match(stat['czxid'] ?? '', /^0x[0-9a-f]+$/);
    assert.equal(await page.textContent('#acl'), 'world:anyonecdrwa');
    await shot(page, '2-app');

    await page.click('#crumbs a:first-child');
    await page.waitForSelector('#children a[data-path="/secret"]');
    await page.click('#children a[data-path="/secret"]');
    await page.waitForFunction(() => document.getElementById('path')?.textContent === '/secret');
    assert.equal(await page.textContent('#data'), '(not readable without authentication)');
    assert.match((await page.textContent('#acl')) ?? '', /^digest:alice:/);
    await shot(page, '3-secret');

    // Writes need a login, and the console header (CSRF); ZooKeeper's ACLs decide them.
    const api = `http://127.0.0.1:${follower.adminPort}/console/api`;
    const anon = await fetch(`${api}/create`, { method: 'POST', headers: { 'x-tszk-console': '1' }, body: JSON.stringify({ path: '/x', data: '' }) });
    assert.equal(anon.status, 401);
    assert.equal((await fetch(`${api}/create`, { method: 'POST', body: JSON.stringify({ path: '/x' }) })).status, 403);
    assert.equal((await fetch(`${api}/login`, { method: 'POST', headers: { 'x-tszk-console': '1' }, body: 'not json' })).status, 400);
    assert.equal((await fetch(`${api}/login`, { method: 'POST', headers: { 'x-tszk-console': '1' }, body: 'x'.repeat(3 * 1024 * 1024) })).status, 413);
    assert.equal(await page.isHidden('#editor'), true);

    // bob may not change alice's node (setData needs WRITE on it; a delete is decided by the parent's ACL).
    await page.fill('#user', 'bob');
    await page.fill('#password', 'pw');
    await page.click('#login button');
    await page.waitForSelector('#editor', { state: 'visible' });
    await page.fill('#edit', 'bob was here');
    await page.click('#save');
    await page.waitForFunction(() => /^set: NoAuth/i.test(document.getElementById('result')?.textContent ?? ''));
    await page.click('#logout');
    await page.waitForSelector('#login', { state: 'visible' });

    // alice reads her node, then creates, edits and deletes (after confirming) a znode.
    await page.fill('#user', 'alice');
    await page.fill('#password', 'secret');
    await page.click('#login button');
    await page.waitForFunction(() => document.getElementById('data')?.textContent === 'do not show');
    assert.equal(await page.textContent('#whoname'), 'alice');
    await page.click('#crumbs a:first-child');
    await page.waitForSelector('#children a[data-path="/app"]');
    await page.click('#children a[data-path="/app"]');
    await page.waitForFunction(() => document.getElementById('path')?.textContent === '/app');
    await page.fill('#newName', 'made-in-browser');
    await page.fill('#edit', 'first');
    await page.click('#create');
    await page.waitForSelector('#children a[data-path="/app/made-in-browser"]');
    await page.click('#children a[data-path="/app/made-in-browser"]');
    await page.waitForFunction(() => document.getElementById('data')?.textContent === 'first');
    await page.fill('#edit', 'second');
    await page.click('#save');
    await page.waitForFunction(() => document.getElementById('data')?.textContent === 'second');
    const check = await ZooKeeperClient.connect(follower.connectString);
    assert.equal((await check.getData('/app/made-in-browser')).data?.toString(), 'second');
    await shot(page, '4-edited');
    // A dismissed confirmation deletes nothing; an accepted one does.
    page.once('dialog', (d) => void d.dismiss());
    await page.click('#delete');
    assert.equal(await page.textContent('#path'), '/app/made-in-browser');
    page.once('dialog', (d) => void d.accept());
    await page.click('#delete');
    await page.waitForFunction(() => document.getElementById('path')?.textContent === '/app');
    await check.sync('/');
    assert.equal(await check.exists('/app/made-in-browser'), null);
    // A create may pick its ACL: "creator only" gives alice's digest id every right, and nobody else any.
    await page.fill('#newName', 'alices');
    await page.fill('#edit', 'private');
    await page.selectOption('#newAcl', 'creator');
    await page.click('#create');
    await page.waitForSelector('#children a[data-path="/app/alices"]');
    await page.click('#children a[data-path="/app/alices"]');
    await page.waitForFunction(() => document.getElementById('data')?.textContent === 'private');
    assert.match((await page.textContent('#acl')) ?? '', /^digest:alice:[^ ]+cdrwa$/);
    await check.sync('/');
    await assert.rejects(check.getData('/app/alices'), /NoAuth/i);
    await check.close();

    // Live charts: points gathered every refresh; the znode count is the member's (mntr's), /app/alices included.
    await page.waitForFunction(() => Number(document.getElementById('chart-ops')?.dataset['points'] ?? 0) >= 2);
    assert.match((await page.textContent('#ops-now')) ?? '', /^\d+\.\d$/);
    await page.waitForFunction(() => document.getElementById('zn-now')?.textContent === '9');

    await cluster.kill(leader.id);
    await page.waitForFunction(
      (old) => {
        const t = document.getElementById('leader')?.textContent ?? '';
        return /^leader: \d+/.test(t) && !t.startsWith(`leader: ${old} `) && document.getElementById('mode')?.textContent !== 'looking';
      },
      leader.id,
      { timeout: 60_000 },
    );
    const newLeader = await cluster.leader();
    assert.notEqual(newLeader.id, leader.id);
    assert.match((await page.textContent('#leader')) ?? '', new RegExp(`^leader: ${newLeader.id} `));
    assert.equal(await page.textContent('#mode'), newLeader.id === follower.id ? 'leader' : 'follower');
    await shot(page, '5-after-leader-killed');
  } finally {
    await browser.close();
  }
});

// The page reloads the node on show every 2 s. An answer to such a reload that arrives after the
// user clicked elsewhere must not take the page back: it once did, and a test's click on /app
// ended on / (and an edit meant for one node was saved to another).
test('a late answer to the periodic reload does not undo a click', { skip, timeout: 120_000 }, async () => {
  await using server = await TestingServer.start();
  const zk = await ZooKeeperClient.connect(server.connectString);
  await zk.create('/app', 'payload');
  await zk.close();

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.adminPort}/`);
    await page.waitForSelector('#children a[data-path="/app"]');
    // Hold the next reload of / until the click on /app has been answered and shown.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const heldOne = new Promise<void>((r) => (held = r));
    await page.route(/\/console\/api\/node\?path=%2F$/, async (route) => {
      held();
      await released;
      await route.continue();
    });
    await heldOne;
    await page.click('#children a[data-path="/app"]');
    await page.waitForFunction(() => document.getElementById('path')?.textContent === '/app');
    const lateAnswer = page.waitForResponse(/\/console\/api\/node\?path=%2F$/);
    release();
    await lateAnswer;
    const settled = () => page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    await settled();
    assert.equal(await page.textContent('#path'), '/app');
    // The next reload is of /app too; once it is answered the page still shows /app.
    await page.waitForResponse(/\/console\/api\/node\?path=%2Fapp$/);
    await settled();
    assert.equal(await page.textContent('#path'), '/app');
    assert.equal(await page.textContent('#data'), 'payload');
  } finally {
    await browser.close();
  }
});

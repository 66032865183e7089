/**
 * The web console at `/` on the admin port: one self-contained page (no external scripts, no
 * CDN) and two JSON reads behind it. It shows the member's mode and ensemble (role, epoch, last
 * zxid, leader, learners and whether each is synced) and browses the znode tree (children,
 * Stat, ACL, data as text, JSON or hex). A node's data is shown only when its ACL lets the viewer
 * read it: anyone, or the user logged in with digest. Writes (create, set, delete with
 * confirmation) need a login and go through that user's own ZooKeeper session (consoleLogins.ts),
 * so ZooKeeper's ACLs decide them.
 */
import { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../client/ops.js';
import { Err, KeeperError } from '../proto/errors.js';
import { Perms } from '../proto/opcodes.js';
import type { ACL, Id } from '../proto/records.js';
import type { MemberAdminSource } from '../server/adminSource.js';
import { hasPermission } from '../txn/auth.js';
import { pathProblem } from '../tree/paths.js';
import type { ConsoleLogin } from './consoleLogins.js';
import type { Json } from './json.js';

const hexZxid = (z: bigint): string => `0x${BigInt.asUintN(64, z).toString(16)}`;

export function consoleEnsemble(m: MemberAdminSource): Json {
  const s = m.servingSource();
  const q = m.quorum();
  const mode = s?.modeName() ?? (q === undefined ? 'standalone' : 'looking');
  // For the live charts: requests answered so far (ops/s is the page's difference), latency, znodes.
  const mt = m.metrics;
  const stats =
    s === undefined
      ? null
      : {
          at_ms: Date.now(),
          requests: mt.summary.readlatency.count + mt.summary.updatelatency.count,
          avgLatency_ms: s.stats.avgLatency,
          znodes: s.db.tree.nodeCount + 1,
        };
  if (q === undefined) {
    return {
      stats,
      mode,
      myid: null,
      leader: null,
      zabState: null,
      epoch: null,
      lastZxid: s === undefined ? null : hexZxid(s.db.lastProcessedZxid),
      members: [],
      learners: [],
    };
  }
  return {
    stats,
    mode,
    myid: q.myid,
    leader: q.leader,
    zabState: q.zabState,
    epoch: Number(BigInt.asUintN(64, q.lastLoggedZxid) >> 32n),
    lastZxid: hexZxid(q.lastLoggedZxid),
    members: q.servers.map((l) => ({ id: l.id, host: l.host, role: l.role, isLeader: l.id === q.leader, self: l.id === q.myid })),
    learners: q.learners.map((l) => ({ id: l.sid, participant: l.participant, synced: l.synced })),
  };
}

/** One znode for the browser; a 4xx status with the reason when the path is bad or missing. */
export function consoleNode(m: MemberAdminSource, path: string, authInfo: readonly Id[]): { status: number; body: Json } {
  const s = m.servingSource();
  if (s === undefined) return { status: 503, body: { error: 'This ZooKeeper instance is not currently serving requests' } };
  const problem = pathProblem(path);
  if (problem !== undefined) return { status: 400, body: { error: `bad path ${JSON.stringify(path)}: ${problem}` } };
  const tree = s.db.tree;
  const node = tree.getNode(path);
  if (node === undefined) return { status: 404, body: { error: `no node ${path}` } };
  const acl = tree.aclOf(node);
  const st = node.stat;
  const readable = hasPermission({ skipACL: s.options.skipACL }, acl, Perms.READ, authInfo);
  const data = node.data;
  return {
    status: 200,
    body: {
      path,
      children: [...node.children].sort(),
      stat: {
        czxid: hexZxid(st.czxid),
        mzxid: hexZxid(st.mzxid),
        pzxid: hexZxid(st.pzxid),
        ctime: new Date(Number(st.ctime)).toISOString(),
        mtime: new Date(Number(st.mtime)).toISOString(),
        version: st.version,
        cversion: st.cversion,
        aversion: st.aversion,
        ephemeralOwner: hexZxid(st.ephemeralOwner),
        dataLength: data?.length ?? 0,
        numChildren: node.numChildren,
      },
      acl: acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: permsText(a.perms) })),
      readable,
      data: readable && data !== null ? data.toString('base64') : null,
    },
  };
}

/**
 * The ACLs a console create offers (ZooDefs.Ids): open to anyone, all rights for the logged-in
 * user only (`auth` becomes their digest id), or theirs with read for anyone.
 */
const CREATE_ACLS: ReadonlyMap<string, ACL[]> = new Map([
  ['open', OPEN_ACL_UNSAFE],
  ['creator', CREATOR_ALL_ACL],
  ['creator-read', [...CREATOR_ALL_ACL, ...READ_ACL_UNSAFE]],
]);

/** A write from the console: create / set / delete, through the login's own session; `acl` picks a create's ACL (CREATE_ACLS, default open). */
export async function consoleWrite(login: ConsoleLogin, action: string, req: Record<string, unknown>): Promise<{ status: number; body: Json }> {
  const path = req['path'];
  if (typeof path !== 'string') return { status: 400, body: { error: 'path must be a string' } };
  const problem = pathProblem(path);
  if (problem !== undefined) return { status: 400, body: { error: `bad path ${JSON.stringify(path)}: ${problem}` } };
  const data = req['data'];
  if (data !== undefined && typeof data !== 'string') return { status: 400, body: { error: 'data must be a string' } };
  const version = req['version'] ?? -1;
  if (typeof version !== 'number' || !Number.isInteger(version)) return { status: 400, body: { error: 'version must be an integer' } };
  try {
    switch (action) {
      case 'create': {
        const acl = CREATE_ACLS.get(typeof req['acl'] === 'string' ? req['acl'] : 'open');
        if (acl === undefined) return { status: 400, body: { error: `acl must be one of ${[...CREATE_ACLS.keys()].join(', ')}` } };
        return { status: 200, body: { created: await login.client.create(path, data ?? '', { acl }) } };
      }
      case 'set':
        return { status: 200, body: { version: (await login.client.setData(path, data ?? '', version)).version } };
      case 'delete':
        await login.client.delete(path, version);
        return { status: 200, body: { deleted: path } };
      default:
        return { status: 404, body: { error: `no action ${action}` } };
    }
  } catch (e) {
    if (!(e instanceof KeeperError)) throw e;
    const status =
      e.code === Err.NoAuth ? 403 : e.code === Err.NoNode ? 404 : e.code === Err.NodeExists || e.code === Err.BadVersion || e.code === Err.NotEmpty ? 409 : 400;
    return { status, body: { error: e.message } };
  }
}

function permsText(p: number): string {
  return [
    [Perms.CREATE, 'c'],
    [Perms.DELETE, 'd'],
    [Perms.READ, 'r'],
    [Perms.WRITE, 'w'],
    [Perms.ADMIN, 'a'],
  ]
    .map(([bit, ch]) => ((p & (bit as number)) !== 0 ? ch : ''))
    .join('');
}

/** The page: plain DOM and fetch, polling the two reads every 2 s. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tszk console</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#222}
header{background:#234;color:#fff;padding:8px 16px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:minmax(240px,1fr) 2fr;gap:16px;padding:16px}
section{border:1px solid #ccc;border-radius:4px;padding:8px 12px}
h2{font-size:15px;margin:4px 0 8px}
ul{list-style:none;padding:0;margin:0}
li a{cursor:pointer;color:#036;text-decoration:none}
li a:hover{text-decoration:underline}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}
pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;word-break:break-all;max-height:320px;overflow:auto}
.muted{color:#888}
</style></head>
<body>
<header><h1>tszk</h1><span>mode: <b id="mode">…</b></span><span id="leader"></span><span id="zxid"></span>
<span style="margin-left:auto" id="auth"><form id="login"><input id="user" placeholder="user" size="8"> <input id="password" type="password" placeholder="password" size="8"> <button>log in</button></form><span id="who" hidden>logged in as <b id="whoname"></b> <button id="logout">log out</button></span></span></header>
<main>
<section><h2>Ensemble</h2><table id="members"></table><div id="learners" class="muted"></div>
<h2>Live</h2>
<div>ops/s <b id="ops-now">–</b><br><canvas id="chart-ops" width="260" height="50"></canvas></div>
<div>avg latency ms <b id="lat-now">–</b><br><canvas id="chart-lat" width="260" height="50"></canvas></div>
<div>znodes <b id="zn-now">–</b><br><canvas id="chart-zn" width="260" height="50"></canvas></div>
</section>
<section><h2>Znode <code id="path">/</code></h2>
<div id="crumbs"></div>
<h2>Children</h2><ul id="children"></ul>
<h2>Data <select id="as"><option>text</option><option>json</option><option>hex</option></select></h2><pre id="data"></pre>
<div id="editor" hidden>
<h2>Change</h2>
<textarea id="edit" rows="4" cols="60"></textarea><br>
<button id="save">save data</button> <button id="delete">delete this znode</button><br>
<input id="newName" placeholder="child name"> <select id="newAcl" title="ACL of the new znode"><option value="open">open (world:anyone cdrwa)</option><option value="creator">creator only (cdrwa)</option><option value="creator-read">creator cdrwa, anyone r</option></select> <button id="create">create child with this data</button>
<div id="result" class="muted"></div>
</div>
<h2>Stat</h2><table id="stat"></table>
<h2>ACL</h2><table id="acl"></table>
</section>
</main>
<script>
let current = '/'; // the node on show
// The node last asked for, and a count of loads: the 2 s refresh loads the node asked for, and only
// the newest load is shown, so a refresh crossing a click can never take the page back.
let wanted = '/';
let loads = 0;
let node = null;
const $ = (id) => document.getElementById(id);
const text = (el, s) => { el.textContent = s; };
const row = (cells) => { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); td.textContent = String(c); tr.appendChild(td); } return tr; };
const child = (p, name) => (p === '/' ? '' : p) + '/' + name;
function bytes(b64) { const s = atob(b64); const a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function showData() {
  const el = $('data');
  if (node === null) return text(el, '');
  if (!node.readable) return text(el, '(not readable without authentication)');
  if (node.data === null) return text(el, '(null)');
  const b = bytes(node.data);
  const as = $('as').value;
  if (as === 'hex') return text(el, Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' '));
  const s = new TextDecoder().decode(b);
  if (as === 'json') { try { return text(el, JSON.stringify(JSON.parse(s), null, 2)); } catch { return text(el, '(not JSON) ' + s); } }
  text(el, s);
}
async function open(p) {
  wanted = p;
  const mine = ++loads;
  const r = await fetch('/console/api/node?path=' + encodeURIComponent(p));
  const body = await r.json();
  if (mine !== loads) return;
  if (!r.ok) { wanted = current; text($('data'), body.error); return; }
  if (p !== current || $('edit').dataset.path !== p) { $('edit').value = body.readable && body.data !== null ? new TextDecoder().decode(bytes(body.data)) : ''; $('edit').dataset.path = p; }
  current = p; node = body;
  text($('path'), p);
  const crumbs = $('crumbs'); crumbs.replaceChildren();
  const parts = p.split('/').filter(Boolean);
  for (let i = -1; i < parts.length; i++) {
    const target = i < 0 ? '/' : '/' + parts.slice(0, i + 1).join('/');
    const a = document.createElement('a'); a.textContent = i < 0 ? '/' : parts[i] + '/'; a.href = '#'; a.onclick = (e) => { e.preventDefault(); open(target); };
    crumbs.appendChild(a); crumbs.append(' ');
  }
  const ul = $('children'); ul.replaceChildren();
  for (const c of body.children) { const li = document.createElement('li'); const a = document.createElement('a'); a.textContent = c; a.dataset.path = child(p, c); a.onclick = () => open(child(p, c)); li.appendChild(a); ul.appendChild(li); }
  if (body.children.length === 0) { const li = document.createElement('li'); li.className = 'muted'; li.textContent = '(no children)'; ul.appendChild(li); }
  const st = $('stat'); st.replaceChildren(); for (const [k, v] of Object.entries(body.stat)) st.appendChild(row([k, v]));
  const acl = $('acl'); acl.replaceChildren(); for (const a of body.acl) acl.appendChild(row([a.scheme + ':' + a.id, a.perms]));
  showData();
}
const series = { ops: [], lat: [], zn: [] };
let lastStats = null;
function plot(id, values) {
  const c = $(id); const g = c.getContext('2d'); g.clearRect(0, 0, c.width, c.height);
  c.dataset.points = String(values.length);
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  g.strokeStyle = '#036'; g.beginPath();
  values.forEach((v, i) => { const x = (i / (values.length - 1)) * (c.width - 2) + 1; const y = c.height - 1 - (v / max) * (c.height - 2); if (i === 0) g.moveTo(x, y); else g.lineTo(x, y); });
  g.stroke();
}
function chart(st) {
  if (st === null) return;
  if (lastStats !== null && st.at_ms > lastStats.at_ms) {
    const push = (k, v) => { series[k].push(v); if (series[k].length > 60) series[k].shift(); };
    const ops = Math.max(0, (st.requests - lastStats.requests) * 1000 / (st.at_ms - lastStats.at_ms));
    push('ops', ops); push('lat', st.avgLatency_ms); push('zn', st.znodes);
    text($('ops-now'), ops.toFixed(1)); text($('lat-now'), st.avgLatency_ms.toFixed(2)); text($('zn-now'), String(st.znodes));
    plot('chart-ops', series.ops); plot('chart-lat', series.lat); plot('chart-zn', series.zn);
  }
  lastStats = st;
}
async function ensemble() {
  try {
    const e = await (await fetch('/console/api/ensemble')).json();
    chart(e.stats);
    text($('mode'), e.mode);
    text($('leader'), e.leader === null ? '' : 'leader: ' + e.leader + (e.zabState ? ' (' + e.zabState + ')' : ''));
    text($('zxid'), e.lastZxid === null ? '' : 'epoch ' + (e.epoch ?? '-') + ', last zxid ' + e.lastZxid);
    const t = $('members'); t.replaceChildren();
    for (const m of e.members) t.appendChild(row([m.id + (m.self ? ' (this)' : ''), m.host, m.role, m.isLeader ? 'leader' : '']));
    text($('learners'), e.learners.length === 0 ? '' : 'learners: ' + e.learners.map((l) => l.id + (l.synced ? ' synced' : ' syncing')).join(', '));
  } catch { text($('mode'), 'unreachable'); }
}
async function post(action, body) {
  const r = await fetch('/console/api/' + action, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tszk-console': '1' }, body: JSON.stringify(body) });
  const out = await r.json();
  text($('result'), r.ok ? action + ': ok' : action + ': ' + out.error);
  return r.ok ? out : null;
}
async function whoami() {
  const me = (await (await fetch('/console/api/whoami')).json()).user;
  $('login').hidden = me !== null; $('who').hidden = me === null; $('editor').hidden = me === null;
  text($('whoname'), me ?? '');
}
$('login').onsubmit = async (e) => { e.preventDefault(); await post('login', { user: $('user').value, password: $('password').value }); $('password').value = ''; await whoami(); await open(wanted); };
$('logout').onclick = async () => { await post('logout', {}); await whoami(); await open(wanted); };
$('save').onclick = async () => { if (await post('set', { path: current, data: $('edit').value, version: node.stat.version })) await open(current); };
$('create').onclick = async () => { const p = child(current, $('newName').value); if (await post('create', { path: p, data: $('edit').value, acl: $('newAcl').value })) { $('newName').value = ''; await open(current); } };
$('delete').onclick = async () => {
  if (!confirm('Delete ' + current + '?')) return;
  const parent = current.lastIndexOf('/') <= 0 ? '/' : current.slice(0, current.lastIndexOf('/'));
  if (await post('delete', { path: current, version: node.stat.version })) await open(parent);
};
whoami();
$('as').onchange = showData;
ensemble(); open('/');
setInterval(() => { ensemble(); open(wanted).catch(() => {}); }, 2000);
</script>
</body></html>
`;

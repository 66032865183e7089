/**
 * The web console at `/` on the admin port: one self-contained page (no external scripts, no
 * CDN) and two JSON reads behind it. It shows the member's mode and ensemble (role, epoch, last
 * zxid, leader, learners and whether each is synced) and browses the znode tree (children,
 * Stat, ACL, data as text, JSON or hex). It never writes. A node's data is shown only when its
 * ACL lets anyone read it (as ZooKeeper would answer an unauthenticated client).
 */
import { Perms } from '../proto/opcodes.js';
import type { MemberAdminSource } from '../server/adminSource.js';
import { hasPermission } from '../txn/auth.js';
import { pathProblem } from '../tree/paths.js';
import type { Json } from './json.js';

const hexZxid = (z: bigint): string => `0x${BigInt.asUintN(64, z).toString(16)}`;

export function consoleEnsemble(m: MemberAdminSource): Json {
  const s = m.servingSource();
  const q = m.quorum();
  const mode = s?.modeName() ?? (q === undefined ? 'standalone' : 'looking');
  if (q === undefined) {
    return {
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
export function consoleNode(m: MemberAdminSource, path: string): { status: number; body: Json } {
  const s = m.servingSource();
  if (s === undefined) return { status: 503, body: { error: 'This ZooKeeper instance is not currently serving requests' } };
  const problem = pathProblem(path);
  if (problem !== undefined) return { status: 400, body: { error: `bad path ${JSON.stringify(path)}: ${problem}` } };
  const tree = s.db.tree;
  const node = tree.getNode(path);
  if (node === undefined) return { status: 404, body: { error: `no node ${path}` } };
  const acl = tree.aclOf(node);
  const st = node.stat;
  const readable = hasPermission({ skipACL: s.options.skipACL }, acl, Perms.READ, []);
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
        numChildren: node.children.size,
      },
      acl: acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: permsText(a.perms) })),
      readable,
      data: readable && data !== null ? data.toString('base64') : null,
    },
  };
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
<header><h1>tszk</h1><span>mode: <b id="mode">…</b></span><span id="leader"></span><span id="zxid"></span></header>
<main>
<section><h2>Ensemble</h2><table id="members"></table><div id="learners" class="muted"></div></section>
<section><h2>Znode <code id="path">/</code></h2>
<div id="crumbs"></div>
<h2>Children</h2><ul id="children"></ul>
<h2>Data <select id="as"><option>text</option><option>json</option><option>hex</option></select></h2><pre id="data"></pre>
<h2>Stat</h2><table id="stat"></table>
<h2>ACL</h2><table id="acl"></table>
</section>
</main>
<script>
let current = '/';
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
  const r = await fetch('/console/api/node?path=' + encodeURIComponent(p));
  const body = await r.json();
  if (!r.ok) { text($('data'), body.error); return; }
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
async function ensemble() {
  try {
    const e = await (await fetch('/console/api/ensemble')).json();
    text($('mode'), e.mode);
    text($('leader'), e.leader === null ? '' : 'leader: ' + e.leader + (e.zabState ? ' (' + e.zabState + ')' : ''));
    text($('zxid'), e.lastZxid === null ? '' : 'epoch ' + (e.epoch ?? '-') + ', last zxid ' + e.lastZxid);
    const t = $('members'); t.replaceChildren();
    for (const m of e.members) t.appendChild(row([m.id + (m.self ? ' (this)' : ''), m.host, m.role, m.isLeader ? 'leader' : '']));
    text($('learners'), e.learners.length === 0 ? '' : 'learners: ' + e.learners.map((l) => l.id + (l.synced ? ' synced' : ' syncing')).join(', '));
  } catch { text($('mode'), 'unreachable'); }
}
$('as').onchange = showData;
ensemble(); open('/');
setInterval(() => { ensemble(); open(current).catch(() => {}); }, 2000);
</script>
</body></html>
`;

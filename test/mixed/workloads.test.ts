/**
 * Issue 6, must show 1: in each 3-member mixed ensemble (1 tszk + 2 Apache ZooKeeper 3.8, 2 tszk +
 * 1 ZooKeeper, the leader on either side) clients on every member run the interop scenarios
 * (node-zookeeper-client, kazoo, the Java client, the zkCli transcript) and then the Jepsen-style
 * register workload (CAS + sync reads under kills and partitions, test/jepsen/run.ts) on the same
 * ensemble; the history must check out, no member may crash on its own, every member serves after
 * healing, all members end with the same tree digest, and no ZooKeeper peer logs an exception
 * that a tszk packet caused.
 *
 * The scripted scenarios' session hops across kinds: node-zookeeper-client's client a starts on a
 * ZooKeeper member and its reconnect lands on a tszk member, kazoo's goes the other way, the Java
 * client's moves from the leader to a member of the other kind.
 *
 * TSZK_MIXED_JEPSEN_MS sets the Jepsen length per combo (default 15 s; `npm run test:mixed:long`
 * runs 120 s), TSZK_JEPSEN_SEED the seed, TSZK_MIXED_COMBO=<0-3> runs one combo only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test, type TestContext } from 'node:test';
import { startFaultCluster, type FaultCluster } from '../support/fault-cluster.js';
import { interopEnsembleOf, startHopProxy, connectStringOf, type InteropEnsemble, type InteropMember } from '../support/ensemble-target.js';
import { repoRoot, startTarget, type Target, type TargetKind } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { runNodeScenario } from '../interop/node-scenario.js';
import { JARS, javaMissing, runExternal } from '../interop/run-external.js';
import { checkResults, DIGEST_PASSWORD, DIGEST_USER } from '../interop/scenario.js';
import { normaliseZkCli, runZkCli, ZKCLI } from '../interop/zkcli-run.js';
import { formatReport, runJepsen } from '../jepsen/run.js';
import { convergedDigests } from '../faults/helpers.js';
import { leaderPortBefore, zk4646Signatures, zkLogFindings } from './zk-log-check.js';

const PYTHON = '/usr/bin/python3';
const requireExternal = process.env['TSZK_REQUIRE_EXTERNAL'] === '1';

function kazooMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'kazoo not importable by /usr/bin/python3';
}

const missing = zookeeperMissing() ?? javaMissing() ?? kazooMissing() ?? (fs.existsSync(ZKCLI) ? undefined : `${ZKCLI} missing`);
const skip = missing !== undefined && !requireExternal ? missing : undefined;

const JEPSEN_MS = Number(process.env['TSZK_MIXED_JEPSEN_MS'] ?? 15_000);
const onlyCombo = process.env['TSZK_MIXED_COMBO'];

/** Sid 3 leads the first election (fault-cluster leaderFirst), so kinds[2] is the leader's kind. */
const combos: { name: string; kinds: TargetKind[] }[] = [
  { name: '1 tszk follower + 2 ZooKeeper (ZooKeeper leads)', kinds: ['tszk', 'zookeeper', 'zookeeper'] },
  { name: '1 tszk leader + 2 ZooKeeper followers', kinds: ['zookeeper', 'zookeeper', 'tszk'] },
  { name: '2 tszk followers + 1 ZooKeeper leader', kinds: ['tszk', 'tszk', 'zookeeper'] },
  { name: '2 tszk (one leads) + 1 ZooKeeper follower', kinds: ['zookeeper', 'tszk', 'tszk'] },
];

// Shared by the combos: the compiled Java scenario and the standalone ZooKeeper zkCli reference transcript.
let javaClasses: string | undefined;
let zkCliReference: { stdout: string; stderr: string } | undefined;
const zkCliScript = (): string => fs.readFileSync(path.join(repoRoot, 'test/interop/scripts/zkcli-scenario.txt'), 'utf8');

function compileJava(): string {
  if (javaClasses !== undefined) return javaClasses;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-java-mixed-'));
  const javac = spawnSync('javac', ['-d', dir, '-cp', JARS.join(':'), path.join(repoRoot, 'test/interop/scripts/JavaScenario.java')], { encoding: 'utf8' });
  if (javac.status !== 0) throw new Error(`javac failed:\n${javac.stderr}`);
  javaClasses = dir;
  return dir;
}

async function referenceTranscript(): Promise<{ stdout: string; stderr: string }> {
  if (zkCliReference !== undefined) return zkCliReference;
  const reference: Target = await startTarget('zookeeper', { extendedTypes: true });
  try {
    zkCliReference = await runZkCli(reference.connectString, zkCliScript());
  } finally {
    await reference.stop();
  }
  return zkCliReference;
}

after(() => {
  if (javaClasses !== undefined) fs.rmSync(javaClasses, { recursive: true, force: true });
});

const describe = (m: InteropMember): string => `${m.id}:${m.kind ?? '?'}`;

/** Runs `f` with client a on `from` through a hop proxy whose reconnect lands on `to`. */
async function withHop(ens: InteropEnsemble, from: InteropMember, to: InteropMember, f: (proxy: TcpProxy, direct: string) => Promise<void>): Promise<void> {
  const proxy = await startHopProxy(from, to);
  try {
    await f(proxy, from.connectString);
    assert.ok(proxy.accepted() >= 2, `client a never reconnected through the proxy (accepted ${proxy.accepted()})`);
  } catch (err) {
    const logs = ens.members.map((m) => `member ${describe(m)}: ${m.logFile}`).join(', ');
    throw new Error(`${(err as Error).message}\n(a: member ${describe(from)} -> ${describe(to)}; leader ${describe(ens.leader)}; logs ${logs})`, {
      cause: err,
    });
  } finally {
    await proxy.close();
  }
}

async function interopScenarios(t: TestContext, ens: InteropEnsemble, tag: string): Promise<void> {
  const zks = ens.members.filter((m) => m.kind === 'zookeeper');
  const tss = ens.members.filter((m) => m.kind === 'tszk');
  const other = ens.members.find((m) => m.kind !== ens.leader.kind)!;

  await t.test(`node-zookeeper-client: session hops ZooKeeper ${describe(zks[0]!)} -> tszk ${describe(tss[0]!)}`, async () => {
    await withHop(ens, zks[0]!, tss[0]!, (proxy, direct) => runNodeScenario(proxy, direct, `/mixed-node-${tag}`));
  });

  await t.test(`kazoo: session hops tszk ${describe(tss.at(-1)!)} -> ZooKeeper ${describe(zks.at(-1)!)}`, async () => {
    await withHop(ens, tss.at(-1)!, zks.at(-1)!, async (proxy, direct) => {
      const root = `/mixed-kazoo-${tag}`;
      const { result } = await runExternal(
        PYTHON,
        [path.join(repoRoot, 'test/interop/scripts/kazoo_scenario.py'), proxy.connectString, direct, root],
        proxy,
        50_000,
      );
      checkResults(result, root, { container: false, ttl: false, persistentWatches: false });
    });
  });

  await t.test(`Java client: session hops leader ${describe(ens.leader)} -> ${describe(other)}`, async () => {
    const classes = compileJava();
    await withHop(ens, ens.leader, other, async (proxy, direct) => {
      const root = `/mixed-java-${tag}`;
      const { result } = await runExternal(
        'java',
        ['-cp', `${classes}:${JARS.join(':')}`, 'JavaScenario', proxy.connectString, direct, root, 'ttl'],
        proxy,
        80_000,
      );
      checkResults(result, root, { container: true, ttl: true, persistentWatches: true });
    });
  });

  await t.test('zkCli on the followers prints what a standalone ZooKeeper 3.8 prints', async () => {
    // The script uses fixed paths (/cli...): it runs once per ensemble, which this is.
    const ref = await referenceTranscript();
    const got = await runZkCli(connectStringOf(ens.followers), zkCliScript());
    assert.match(ref.stderr, /Created \/cli\/ttl/);
    assert.deepEqual(normaliseZkCli(got.stderr), normaliseZkCli(ref.stderr), 'zkCli stderr differs');
    assert.deepEqual(normaliseZkCli(got.stdout), normaliseZkCli(ref.stdout), 'zkCli stdout differs');
  });
}

/**
 * ZooKeeper 3.8.0's learner NPEs (Learner.java:655, "pif" is null) on a COMMIT between NEWLEADER
 * and UPTODATE with no PROPOSAL since NEWLEADER, which ZooKeeper's own leader sends for proposals
 * in flight during the sync; tszk's leader no longer does. So that NPE fails the test only when
 * the learner's leader was a tszk peer.
 */
function zkLeaderOwnNpe(cluster: FaultCluster, logFile: string, finding: string): boolean {
  // After many of them the JVM throws a preallocated NPE, without message or stack
  // (OmitStackTraceInFastThrow): a bare NPE there counts as the same one, under the same rule.
  const m = /^line (\d+): .*("pif" is null|Exception when following the leader \[java\.lang\.NullPointerException\]$)/.exec(finding);
  if (m === null) return false;
  const port = leaderPortBefore(logFile, Number(m[1]));
  const sid = port === undefined ? undefined : cluster.quorumProxyTarget(port);
  return sid !== undefined && cluster.peer(sid).kind === 'zookeeper';
}

/**
 * `zk4646`: ZooKeeper 3.8.0 lost acknowledged txns in this run (its signature is in the logs).
 * A ZooKeeper member its leader then TRUNCates below one of its own snapshots reloads that
 * snapshot (3.8.0 keeps snapshots past the TRUNC point), so its tree holds txns the leader no
 * longer has and its digest check reports them: reported, not failed on, in that case only.
 */
function assertZkLogsClean(cluster: FaultCluster, phase: string, zk4646 = false): void {
  const all = cluster.peers.filter((p) => p.kind === 'zookeeper').flatMap((p) => zkLogFindings(p.logFile).map((f) => ({ p, f })));
  const own = all.filter(({ p, f }) => zkLeaderOwnNpe(cluster, p.logFile, f));
  if (own.length > 0)
    console.log(`  ${own.length} ZooKeeper learner NPE(s) at Learner.java:655 under a ZooKeeper leader (ZooKeeper 3.8.0's own, not failed on)`);
  const afterLoss = zk4646 ? all.filter(({ f }) => /Digests are not matching|First digest mismatch/.test(f)) : [];
  if (afterLoss.length > 0)
    console.log(`  ${afterLoss.length} ZooKeeper digest mismatch line(s) after ZOOKEEPER-4646 lost txns (not failed on): ${afterLoss[0]!.f}`);
  const findings = all.filter((x) => !own.includes(x) && !afterLoss.includes(x)).map(({ p, f }) => `peer ${p.sid} (${p.logFile}): ${f}`);
  assert.deepEqual(findings.slice(0, 8), [], `ZooKeeper peers logged exceptions not caused by the nemesis (${phase})`);
}

combos.forEach((combo, index) => {
  const selected = onlyCombo === undefined || Number(onlyCombo) === index;
  test(
    `mixed workloads: ${combo.name}`,
    { skip: skip ?? (selected ? undefined : `TSZK_MIXED_COMBO=${onlyCombo}`), timeout: 300_000 + JEPSEN_MS * 2 },
    async (t) => {
      if (missing !== undefined) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
      const t0 = performance.now();
      const cluster = await startFaultCluster({
        kind: combo.kinds[0]!,
        kinds: combo.kinds,
        n: 3,
        leaderFirst: 3,
        // Slower ticks than the single-kind suites: JVMs share 2 cores with other ensembles.
        tickTime_ms: 500,
        initLimit: 20,
        syncLimit: 6,
        cfg: { extendedTypesEnabled: 'true' },
      });
      let passed = false;
      try {
        const ens = await interopEnsembleOf(cluster);
        const started_s = (performance.now() - t0) / 1000;
        assert.equal(ens.leader.id, 3, `sid ${ens.leader.id} leads, not 3`);
        assert.equal(ens.leader.kind, combo.kinds[2]);

        const tInterop = performance.now();
        await interopScenarios(t, ens, `${index}-${process.pid}`);
        const interop_s = (performance.now() - tInterop) / 1000;
        assert.deepEqual(cluster.unexpectedExits(), [], 'a member crashed during the interop scenarios');
        assertZkLogsClean(cluster, 'interop scenarios');

        const tJepsen = performance.now();
        const o = {
          kind: combo.kinds[0]!,
          members: 3,
          duration_ms: JEPSEN_MS,
          clients: 6,
          registers: 3,
          seed: Number(process.env['TSZK_JEPSEN_SEED'] ?? Date.now() % 1_000_000) + index,
        };
        const rep = await runJepsen({ ...o, cluster, print: (l) => t.diagnostic(l) });
        const jepsen_s = (performance.now() - tJepsen) / 1000;
        const whole = await convergedDigests(cluster, '/', 20_000, { scheme: 'digest', auth: `${DIGEST_USER}:${DIGEST_PASSWORD}` });
        const leader = await cluster.waitForLeader({ timeout_ms: 60_000 });
        const lines = [
          `combo ${index} ${combo.name}: kinds ${combo.kinds.map((k, i) => `${i + 1}:${k}`).join(' ')}; first leader ${ens.leader.id} (${ens.leader.kind}), leader after the run ${leader.sid} (${leader.kind})`,
          `  durations: start ${started_s.toFixed(1)} s, interop ${interop_s.toFixed(1)} s, jepsen ${jepsen_s.toFixed(1)} s, total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          ...formatReport(`mixed ${combo.kinds.join('/')}`, o, rep),
          `  whole-tree digests: ${JSON.stringify(Object.fromEntries(whole))}`,
        ];
        for (const l of lines) console.log(l);
        if (!rep.result.ok) {
          const file = path.join(os.tmpdir(), `mixed-jepsen-history-${o.seed}.json`);
          fs.writeFileSync(
            file,
            JSON.stringify(rep.history, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
          );
          console.log(`  history written to ${file}; logs in ${cluster.dir}`);
        }
        assert.ok(rep.faults.length >= 2, `only ${rep.faults.length} faults injected`);
        assert.ok(rep.result.writes.ok > 20 && rep.result.reads.ok > 20, 'too few successful ops to mean anything');
        // A ZooKeeper leader answers its own clients' sync at once (its CommitProcessor does not
        // match syncs) and applies a commit after sending it to the followers, so a sync+read
        // through it may miss a write another member already acknowledged. That is ZooKeeper's
        // behaviour, not the mixed ensemble's: such violations on reads served by a ZooKeeper
        // member are reported, not failed on. Every other violation fails.
        const viaZk = (v: string): boolean => {
          const m = /^sync\+read at .* misses a write acknowledged .* from (\d+)$/.exec(v);
          return m !== null && cluster.peer(Number(m[1])).kind === 'zookeeper';
        };
        const zkOwn = rep.result.violations.filter(viaZk);
        if (zkOwn.length > 0)
          console.log(`  ${zkOwn.length} stale sync+read(s) served by a ZooKeeper member (ZooKeeper leader behaviour, not failed on): ${zkOwn[0]}`);
        const violations = rep.result.violations.filter((v) => !viaZk(v));
        // ZooKeeper 3.8.0 can lose txns a DIFF brought it and then lead with the epoch it wrote too
        // early (ZOOKEEPER-4643/4646, fixed upstream in 2024): acknowledged writes are TRUNCated away on
        // the others. With that signature in its log, the violations are reported, not failed on.
        // A tszk member that such a ZooKeeper leader then tells to TRUNCate committed txns stops on
        // its assertion ('truncate to ... below applied ...') rather than drop them: also reported.
        // Such a member stays down (each restart meets the same TRUNC), so it is not serving at the
        // end either; every member that is not is one of those.
        const zkBug = zk4646Signatures(cluster.peers);
        const refusedTrunc = (x: string): boolean => /truncate to \d+ below applied \d+/.test(x);
        const allExits = cluster.unexpectedExits();
        const refused = zkBug.length > 0 ? allExits.filter(refusedTrunc) : [];
        const exits = allExits.filter((x) => !refused.includes(x));
        const refusedSids = new Set(refused.map((x) => Number(/^peer (\d+) /.exec(x)?.[1])));
        const stuck = rep.stuck.filter((x) => !refusedSids.has(Number(/^member (\d+) /.exec(x)?.[1])));
        const down = cluster.peers.filter((p) => !p.running()).map((p) => p.sid);
        if (zkBug.length > 0) {
          console.log(
            `  ZooKeeper 3.8.0's ZOOKEEPER-4646 seen: ${zkBug.join('; ')}; ${violations.length} history violation(s) and ${refused.length} tszk stop(s) on a TRUNC below its commit point (members ${[...refusedSids].join(',') || 'none'}) not failed on${violations.length > 0 ? `; first violation: ${violations[0]}` : ''}`,
          );
        } else assert.deepEqual(violations, [], `history violations (seed ${o.seed}, logs ${cluster.dir})`);
        assert.deepEqual(stuck, [], `members not serving after healing (seed ${o.seed}, logs ${cluster.dir})`);
        assert.deepEqual(exits, [], `members crashed on their own (seed ${o.seed}, logs ${cluster.dir})`);
        assert.deepEqual(
          down.filter((sid) => !refusedSids.has(sid)),
          [],
          'members not running at the end',
        );
        assert.ok(down.length < 2, 'no quorum running at the end');
        assert.equal(new Set(rep.digests.values()).size, 1, `members' /jepsen trees differ (seed ${o.seed}, logs ${cluster.dir})`);
        assert.equal(new Set(whole.values()).size, 1, `members' whole trees differ (seed ${o.seed}, logs ${cluster.dir})`);
        assert.ok(![...whole.values()][0]!.startsWith('error'), `digest read failed: ${[...whole.values()][0]}`);
        assertZkLogsClean(cluster, `jepsen seed ${o.seed}`, zkBug.length > 0);
        passed = true;
      } finally {
        const keep = !passed || process.env['TSZK_KEEP_MIXED'] === '1';
        if (keep) console.log(`  logs kept in ${cluster.dir}`);
        await cluster.stop({ keepDir: keep });
      }
    },
  );
});

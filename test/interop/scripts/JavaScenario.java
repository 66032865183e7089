// Runs the shared interop scenario (test/interop/scenario.ts) with ZooKeeper's own Java client.
// Usage: java JavaScenario <proxied host:port> <direct host:port> <root>
// Prints "DROP" and waits for a stdin line while the harness cuts the proxied connection, then
// "RESULT <json>" with what it observed (error codes as ints, watch events "<type>:<path>").
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

public class JavaScenario {
    static final long WAIT_S = 10;

    interface Call { Object run() throws Exception; }

    static Object codeOf(Call c) throws Exception {
        try {
            return c.run();
        } catch (KeeperException e) {
            return e.code().intValue();
        }
    }

    static String json(Object v) {
        if (v == null) return "null";
        if (v instanceof String) {
            StringBuilder b = new StringBuilder("\"");
            for (char ch : ((String) v).toCharArray()) {
                if (ch == '"' || ch == '\\') b.append('\\');
                b.append(ch);
            }
            return b.append('"').toString();
        }
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        if (v instanceof List) {
            List<String> parts = new ArrayList<>();
            for (Object x : (List<?>) v) parts.add(json(x));
            return "[" + String.join(",", parts) + "]";
        }
        if (v instanceof Map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) parts.add(json(e.getKey().toString()) + ":" + json(e.getValue()));
            return "{" + String.join(",", parts) + "}";
        }
        return json(v.toString());
    }

    static ZooKeeper connect(String hosts, BlockingQueue<Watcher.Event.KeeperState> states) throws Exception {
        BlockingQueue<Watcher.Event.KeeperState> q = states != null ? states : new LinkedBlockingQueue<>();
        ZooKeeper zk = new ZooKeeper(hosts, 20000, e -> {
            if (e.getType() == Watcher.Event.EventType.None) q.add(e.getState());
        });
        Watcher.Event.KeeperState s = q.poll(WAIT_S, TimeUnit.SECONDS);
        if (s != Watcher.Event.KeeperState.SyncConnected) throw new IllegalStateException("not connected to " + hosts + ": " + s);
        return zk;
    }

    public static void main(String[] args) throws Exception {
        String proxied = args[0], direct = args[1], R = args[2];
        boolean ttl = args.length > 3 && args[3].equals("ttl");
        BlockingQueue<Watcher.Event.KeeperState> aStates = new LinkedBlockingQueue<>();
        ZooKeeper a = connect(proxied, aStates);
        ZooKeeper b = connect(direct, null);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Watcher w = e -> {
            if (e.getType() != Watcher.Event.EventType.None) events.add(e.getType().getIntValue() + ":" + e.getPath());
        };
        Map<String, Object> r = new LinkedHashMap<>();
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;

        r.put("create", a.create(R, "v0".getBytes(), open, CreateMode.PERSISTENT));
        Stat st = new Stat();
        r.put("get_data", new String(a.getData(R, false, st)));
        r.put("get_version", st.getVersion());
        r.put("set_version", a.setData(R, "v1".getBytes(), 0).getVersion());
        r.put("set_bad_version", codeOf(() -> a.setData(R, "x".getBytes(), 5)));
        r.put("create_again", codeOf(() -> a.create(R, null, open, CreateMode.PERSISTENT)));
        r.put("get_missing", codeOf(() -> a.getData(R + "/missing", false, null)));
        r.put("seq", a.create(R + "/seq-", null, open, CreateMode.PERSISTENT_SEQUENTIAL));
        r.put("eseq", a.create(R + "/eseq-", null, open, CreateMode.EPHEMERAL_SEQUENTIAL));
        r.put("eph", a.create(R + "/eph", null, open, CreateMode.EPHEMERAL));
        r.put("eph_owner_is_session", a.exists(R + "/eph", false).getEphemeralOwner() == a.getSessionId());
        r.put("eph_child", codeOf(() -> a.create(R + "/eph/x", null, open, CreateMode.PERSISTENT)));
        List<String> kids = new ArrayList<>(a.getChildren(R, false));
        Collections.sort(kids);
        r.put("children", kids);
        r.put("delete_not_empty", codeOf(() -> { a.delete(R, -1); return "deleted"; }));

        r.put("container", a.create(R + "/cont", null, open, CreateMode.CONTAINER));
        r.put("container_owner", Long.toString(a.exists(R + "/cont", false).getEphemeralOwner()));
        if (ttl) {
            r.put("ttl", a.create(R + "/ttl", null, open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60000L));
            r.put("ttl_owner", Long.toString(a.exists(R + "/ttl", false).getEphemeralOwner()));
        }

        a.getData(R, w, null);
        a.setData(R, "v2".getBytes(), -1);
        r.put("watch_data", take(events, 1));
        a.getChildren(R, w);
        a.create(R + "/c1", null, open, CreateMode.PERSISTENT);
        r.put("watch_child", take(events, 1));
        a.exists(R + "/later", w);
        a.create(R + "/later", null, open, CreateMode.PERSISTENT);
        r.put("watch_exists", take(events, 1));
        a.getData(R + "/c1", w, null);
        a.delete(R + "/c1", -1);
        r.put("watch_deleted", take(events, 1));

        a.addAuthInfo("digest", "alice:secret".getBytes());
        a.create(R + "/secure", "s".getBytes(), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        List<Object> acls = new ArrayList<>();
        for (ACL acl : a.getACL(R + "/secure", new Stat())) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("perms", acl.getPerms());
            m.put("scheme", acl.getId().getScheme());
            m.put("id", acl.getId().getId());
            acls.add(m);
        }
        r.put("acl_secure", acls);
        r.put("noauth_get", codeOf(() -> b.getData(R + "/secure", false, null)));
        b.create(R + "/ro", null, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        r.put("ro_set", codeOf(() -> b.setData(R + "/ro", "no".getBytes(), -1)));

        List<OpResult> ok = a.multi(List.of(
            Op.create(R + "/m1", "m".getBytes(), open, CreateMode.PERSISTENT),
            Op.setData(R + "/m1", "m2".getBytes(), 0),
            Op.check(R, 2)));
        r.put("multi_ok", List.of(((OpResult.CreateResult) ok.get(0)).getPath(),
            ((OpResult.SetDataResult) ok.get(1)).getStat().getVersion(),
            ok.size() == 3 && ok.get(2) instanceof OpResult.CheckResult ? "ok" : ok.toString()));
        r.put("multi_fail", codeOf(() -> a.multi(List.of(
            Op.create(R + "/m2", null, open, CreateMode.PERSISTENT),
            Op.check(R, 99)))));
        r.put("multi_fail_m2_exists", b.exists(R + "/m2", false) != null);

        // Persistent recursive watch: fires for every change below, no NodeChildrenChanged, and
        // stays until removed (removal is reported to the watcher as PersistentWatchRemoved).
        BlockingQueue<String> pev = new LinkedBlockingQueue<>();
        Watcher pw = e -> pev.add(e.getType().getIntValue() + ":" + e.getPath());
        a.addWatch(R + "/pw", pw, AddWatchMode.PERSISTENT_RECURSIVE);
        a.create(R + "/pw", null, open, CreateMode.PERSISTENT);
        a.create(R + "/pw/x", null, open, CreateMode.PERSISTENT);
        a.setData(R + "/pw/x", "d".getBytes(), -1);
        a.delete(R + "/pw/x", -1);
        r.put("persistent_recursive", take(pev, 4));
        a.removeWatches(R + "/pw", pw, Watcher.WatcherType.Any, false);
        r.put("persistent_removed", take(pev, 1));
        r.put("remove_missing_watch", codeOf(() -> { a.removeWatches(R + "/pw", pw, Watcher.WatcherType.Any, false); return "removed"; }));

        long sessionBefore = a.getSessionId();
        a.getData(R, w, null);
        aStates.clear();
        System.out.println("DROP");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        List<Watcher.Event.KeeperState> seen = new ArrayList<>();
        for (;;) {
            Watcher.Event.KeeperState s = aStates.poll(WAIT_S, TimeUnit.SECONDS);
            if (s == null) break;
            seen.add(s);
            if (s == Watcher.Event.KeeperState.SyncConnected) break;
        }
        r.put("same_session", seen.contains(Watcher.Event.KeeperState.Disconnected)
            && !seen.isEmpty() && seen.get(seen.size() - 1) == Watcher.Event.KeeperState.SyncConnected
            && a.getSessionId() == sessionBefore);
        r.put("eph_after_reconnect", b.exists(R + "/eph", false) != null);
        a.exists(R, false);
        b.setData(R, "v3".getBytes(), -1);
        r.put("watch_after_reconnect", take(events, 1));

        String eseq = (String) r.get("eseq");
        a.close();
        // b may be on another member: ZooKeeper promises it sees a's close only after a sync.
        java.util.concurrent.CountDownLatch synced = new java.util.concurrent.CountDownLatch(1);
        b.sync(R, (rc, path, ctx) -> synced.countDown(), null);
        synced.await(10, TimeUnit.SECONDS);
        r.put("eph_gone_after_close", b.exists(R + "/eph", false) == null);
        r.put("eseq_gone_after_close", b.exists(eseq, false) == null);
        b.close();
        System.out.println("RESULT " + json(r));
        System.out.flush();
    }

    static List<String> take(BlockingQueue<String> q, int n) throws InterruptedException {
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            String s = q.poll(WAIT_S, TimeUnit.SECONDS);
            if (s == null) break;
            out.add(s);
        }
        return out;
    }
}

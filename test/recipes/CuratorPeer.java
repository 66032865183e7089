// A Curator 5 participant for the interop suite, driven line by line on stdin by
// test/recipes/curator-peer.ts. Each command gets one reply line, "OK <value>" or
// "ERR <message>"; leader latch callbacks are written as "EVENT ..." lines whenever they happen.
// Recipes are kept per path so later commands act on the same instance.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

public class CuratorPeer {
    static final ObjectMapper JSON = new ObjectMapper();
    static CuratorFramework client;
    static final Map<String, InterProcessMutex> mutexes = new HashMap<>();
    static final Map<String, InterProcessReadWriteLock> rwLocks = new HashMap<>();
    static final Map<String, Lease> leases = new HashMap<>();
    static final Map<String, LeaderLatch> latches = new HashMap<>();
    static final Map<String, Semaphore> leadershipEnds = new HashMap<>();
    static final Map<String, DistributedDoubleBarrier> doubleBarriers = new HashMap<>();
    static final Map<String, SharedCount> counts = new HashMap<>();
    static final Map<String, ServiceDiscovery<Map>> discoveries = new HashMap<>();

    static synchronized void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        client = CuratorFrameworkFactory.newClient(args[0], Integer.parseInt(args[1]), 10000, new RetryNTimes(20, 200));
        client.start();
        if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        out("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] a = line.split(" ");
            try {
                if (a[0].equals("quit")) break;
                out("OK " + run(a));
            } catch (Exception e) {
                out("ERR " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
        client.close();
    }

    static String run(String[] a) throws Exception {
        switch (a[0]) {
            case "mutex-acquire": {
                InterProcessMutex m = mutexes.computeIfAbsent(a[1], p -> new InterProcessMutex(client, p));
                return String.valueOf(m.acquire(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
            }
            case "mutex-release":
                mutexes.get(a[1]).release();
                return "";
            case "mutex-nodes":
                return JSON.writeValueAsString(client.getChildren().forPath(a[1]));
            case "rw-acquire": {
                // path read|write timeout_ms
                InterProcessReadWriteLock rw = rwLocks.computeIfAbsent(a[1], p -> new InterProcessReadWriteLock(client, p));
                InterProcessMutex m = a[2].equals("read") ? rw.readLock() : rw.writeLock();
                return String.valueOf(m.acquire(Long.parseLong(a[3]), TimeUnit.MILLISECONDS));
            }
            case "rw-release": {
                InterProcessReadWriteLock rw = rwLocks.get(a[1]);
                InterProcessMutex m = a[2].equals("read") ? rw.readLock() : rw.writeLock();
                m.release();
                return "";
            }
            case "sem-acquire": {
                // path maxLeases timeout_ms: the lease's node name, or null
                Lease l = new InterProcessSemaphoreV2(client, a[1], Integer.parseInt(a[2])).acquire(Long.parseLong(a[3]), TimeUnit.MILLISECONDS);
                if (l == null) return "null";
                leases.put(l.getNodeName(), l);
                return l.getNodeName();
            }
            case "sem-return":
                leases.remove(a[1]).close();
                return "";
            case "selector-start": {
                // path id: leads (EVENT leading <id>) until selector-end releases it
                Semaphore end = new Semaphore(0);
                leadershipEnds.put(a[1], end);
                LeaderSelector s = new LeaderSelector(client, a[1], new LeaderSelectorListenerAdapter() {
                    public void takeLeadership(CuratorFramework c) throws Exception {
                        out("EVENT leading " + a[2]);
                        end.acquire();
                        out("EVENT ended " + a[2]);
                    }
                });
                s.setId(a[2]);
                s.start();
                return "";
            }
            case "selector-end":
                leadershipEnds.get(a[1]).release();
                return "";
            case "latch-start": {
                LeaderLatch l = new LeaderLatch(client, a[1], a[2]);
                l.addListener(new LeaderLatchListener() {
                    public void isLeader() { out("EVENT isLeader " + a[2]); }
                    public void notLeader() { out("EVENT notLeader " + a[2]); }
                });
                latches.put(a[1], l);
                l.start();
                return "";
            }
            case "latch-has":
                return String.valueOf(latches.get(a[1]).hasLeadership());
            case "latch-await":
                return String.valueOf(latches.get(a[1]).await(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
            case "latch-leader":
                return latches.get(a[1]).getLeader().getId();
            case "latch-close":
                latches.remove(a[1]).close();
                return "";
            case "barrier-set":
                new DistributedBarrier(client, a[1]).setBarrier();
                return "";
            case "barrier-remove":
                new DistributedBarrier(client, a[1]).removeBarrier();
                return "";
            case "barrier-wait":
                return String.valueOf(new DistributedBarrier(client, a[1]).waitOnBarrier(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
            case "dbarrier-enter": {
                DistributedDoubleBarrier b = new DistributedDoubleBarrier(client, a[1], Integer.parseInt(a[2]));
                doubleBarriers.put(a[1], b);
                return String.valueOf(b.enter(Long.parseLong(a[3]), TimeUnit.MILLISECONDS));
            }
            case "dbarrier-leave":
                return String.valueOf(doubleBarriers.remove(a[1]).leave(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
            case "count-get":
                return String.valueOf(count(a[1], Integer.parseInt(a[2])).getCount());
            case "count-inc": {
                SharedCount c = count(a[1], 0);
                for (;;) {
                    VersionedValue<Integer> v = c.getVersionedValue();
                    if (c.trySetCount(v, v.getValue() + 1)) return String.valueOf(v.getValue() + 1);
                }
            }
            case "long-inc": {
                DistributedAtomicLong l = new DistributedAtomicLong(client, a[1], new RetryNTimes(10, 10));
                for (;;) {
                    AtomicValue<Long> v = l.increment();
                    if (v.succeeded()) return String.valueOf(v.postValue());
                }
            }
            case "long-get":
                return String.valueOf(new DistributedAtomicLong(client, a[1], new RetryNTimes(1, 10)).get().postValue());
            case "raw-get":
                return Base64.getEncoder().encodeToString(client.getData().forPath(a[1]));
            case "disc-register": {
                // base name id address port: payload a map, uriSpec with variables, enabled written (non-compatible mode).
                Map<String, String> payload = new LinkedHashMap<>();
                payload.put("from", "curator");
                ServiceInstance<Map> si = ServiceInstance.<Map>builder().name(a[2]).id(a[3]).address(a[4])
                        .port(Integer.parseInt(a[5])).payload(payload).uriSpec(new UriSpec("{scheme}://{address}:{port}")).build();
                discovery(a[1]).registerService(si);
                return "";
            }
            case "disc-query": {
                List<Map<String, Object>> out = new ArrayList<>();
                for (ServiceInstance<Map> si : discovery(a[1]).queryForInstances(a[2])) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", si.getName());
                    m.put("id", si.getId());
                    m.put("address", si.getAddress());
                    m.put("port", si.getPort());
                    m.put("sslPort", si.getSslPort());
                    m.put("payload", si.getPayload());
                    m.put("serviceType", si.getServiceType().name());
                    m.put("enabled", si.isEnabled());
                    m.put("registrationTimeUTC", si.getRegistrationTimeUTC());
                    m.put("uri", si.buildUriSpec());
                    out.add(m);
                }
                return JSON.writeValueAsString(out);
            }
            case "bench-mutex": {
                InterProcessMutex m = new InterProcessMutex(client, a[1]);
                long end = System.currentTimeMillis() + Long.parseLong(a[2]);
                int n = 0;
                while (System.currentTimeMillis() < end) {
                    m.acquire();
                    m.release();
                    n++;
                }
                return String.valueOf(n);
            }
            default:
                throw new IllegalArgumentException("unknown command " + a[0]);
        }
    }

    static SharedCount count(String path, int seed) throws Exception {
        SharedCount c = counts.get(path);
        if (c == null) {
            c = new SharedCount(client, path, seed);
            c.start();
            counts.put(path, c);
        }
        return c;
    }

    @SuppressWarnings("rawtypes")
    static ServiceDiscovery<Map> discovery(String base) throws Exception {
        ServiceDiscovery<Map> d = discoveries.get(base);
        if (d == null) {
            d = ServiceDiscoveryBuilder.builder(Map.class).client(client).basePath(base)
                    .serializer(new JsonInstanceSerializer<>(Map.class, false)).build();
            d.start();
            discoveries.put(base, d);
        }
        return d;
    }
}

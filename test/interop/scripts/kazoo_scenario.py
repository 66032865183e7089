"""Runs the shared interop scenario (test/interop/scenario.ts) with kazoo.

Usage: kazoo_scenario.py <proxied host:port> <direct host:port> <root>
Prints "DROP" and waits for a line on stdin while the harness cuts the proxied connection,
then prints "RESULT <json>" with what it observed (error codes as ints, events "<type>:<path>").
"""
import json
import queue
import sys
import threading

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import ZookeeperError, RolledBackError
from kazoo.security import CREATOR_ALL_ACL, READ_ACL_UNSAFE

WAIT_S = 10
EVENT_TYPES = {'CREATED': 1, 'DELETED': 2, 'CHANGED': 3, 'CHILD': 4}


def code_of(f):
    """The value of f(), or the ZooKeeper error code it failed with."""
    try:
        return f()
    except ZookeeperError as e:
        return e.code


def main():
    proxied, direct, root = sys.argv[1], sys.argv[2], sys.argv[3]
    a = KazooClient(hosts=proxied, timeout=20)
    a.start(timeout=WAIT_S)
    b = KazooClient(hosts=direct, timeout=20)
    b.start(timeout=WAIT_S)
    events = queue.Queue()

    def watcher(ev):
        # kazoo also hands connection-state changes (type NONE) to watchers; only node events count.
        if ev.type == 'NONE':
            return
        events.put('%d:%s' % (EVENT_TYPES.get(ev.type, -99), ev.path))

    def take(n):
        out = []
        try:
            while len(out) < n:
                out.append(events.get(timeout=WAIT_S))
        except queue.Empty:
            pass
        return out

    r = {}
    R = root
    r['create'] = a.create(R, b'v0')
    data, stat = a.get(R)
    r['get_data'] = data.decode()
    r['get_version'] = stat.version
    r['set_version'] = a.set(R, b'v1', version=0).version
    r['set_bad_version'] = code_of(lambda: a.set(R, b'x', version=5))
    r['create_again'] = code_of(lambda: a.create(R))
    r['get_missing'] = code_of(lambda: a.get(R + '/missing'))
    r['seq'] = a.create(R + '/seq-', sequence=True)
    r['eseq'] = a.create(R + '/eseq-', ephemeral=True, sequence=True)
    r['eph'] = a.create(R + '/eph', ephemeral=True)
    r['eph_owner_is_session'] = a.exists(R + '/eph').ephemeralOwner == a.client_id[0]
    r['eph_child'] = code_of(lambda: a.create(R + '/eph/x'))
    r['children'] = sorted(a.get_children(R))
    r['delete_not_empty'] = code_of(lambda: a.delete(R))

    a.get(R, watch=watcher)
    a.set(R, b'v2')
    r['watch_data'] = take(1)
    a.get_children(R, watch=watcher)
    a.create(R + '/c1')
    r['watch_child'] = take(1)
    a.exists(R + '/later', watch=watcher)
    a.create(R + '/later')
    r['watch_exists'] = take(1)
    a.get(R + '/c1', watch=watcher)
    a.delete(R + '/c1')
    r['watch_deleted'] = take(1)

    a.add_auth('digest', 'alice:secret')
    a.create(R + '/secure', b's', acl=CREATOR_ALL_ACL)
    acls, _ = a.get_acls(R + '/secure')
    r['acl_secure'] = [{'perms': x.perms, 'scheme': x.id.scheme, 'id': x.id.id} for x in acls]
    r['noauth_get'] = code_of(lambda: b.get(R + '/secure'))
    b.create(R + '/ro', acl=READ_ACL_UNSAFE)
    r['ro_set'] = code_of(lambda: b.set(R + '/ro', b'no'))

    t = a.transaction()
    t.create(R + '/m1', b'm')
    t.set_data(R + '/m1', b'm2', version=0)
    t.check(R, 2)
    res = t.commit()
    r['multi_ok'] = [res[0], res[1].version if hasattr(res[1], 'version') else repr(res[1]),
                     'ok' if len(res) == 3 and res[2] is True else repr(res[2:])]
    t = a.transaction()
    t.create(R + '/m2')
    t.check(R, 99)
    res = t.commit()
    fails = [x.code for x in res if isinstance(x, ZookeeperError) and not isinstance(x, RolledBackError)]
    r['multi_fail'] = fails[0] if fails else repr(res)
    r['multi_fail_m2_exists'] = b.exists(R + '/m2') is not None

    session_before = a.client_id[0]
    a.get(R, watch=watcher)
    states = queue.Queue()
    a.add_listener(lambda s: states.put(s))
    print('DROP', flush=True)
    sys.stdin.readline()
    seen = []
    try:
        while True:
            s = states.get(timeout=WAIT_S)
            seen.append(s)
            if s == KazooState.CONNECTED and KazooState.SUSPENDED in seen:
                break
    except queue.Empty:
        pass
    r['same_session'] = KazooState.SUSPENDED in seen and seen[-1] == KazooState.CONNECTED and a.client_id[0] == session_before
    r['eph_after_reconnect'] = b.exists(R + '/eph') is not None
    # kazoo 2.8 drops its watchers on connection loss (it fires them with a NONE event instead
    # of re-registering them with SetWatches), so the watch is set again on the new connection.
    a.get(R, watch=watcher)
    b.set(R, b'v3')
    r['watch_after_reconnect'] = take(1)

    eseq = r['eseq']
    a.stop()
    a.close()
    # b may be on another member: ZooKeeper promises it sees a's close only after a sync.
    b.sync(R)
    r['eph_gone_after_close'] = b.exists(R + '/eph') is None
    r['eseq_gone_after_close'] = b.exists(eseq) is None
    b.stop()
    b.close()
    print('RESULT ' + json.dumps(r), flush=True)


if __name__ == '__main__':
    main()

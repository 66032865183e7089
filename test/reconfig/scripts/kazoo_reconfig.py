"""Reconfig answers as kazoo sees them, for test/reconfig/answers.test.ts.

Usage: kazoo_reconfig.py <host:port> <free port> x 9
       kazoo_reconfig.py --one <host:port>   (one super reconfig adding an observer: its answer)
Runs kazoo's TestReconfig operations and more refusals in a fixed order, with an unauthenticated
client and a super client (password "test"), and prints "RESULT <json>": one entry per step,
the error code (0 when it succeeded) and, on success, whether the new config holds the joiner.
The free ports answer RST, so a joined observer never connects (as in kazoo's own test).
"""
import json
import sys

from kazoo import exceptions
from kazoo.client import KazooClient
from kazoo.exceptions import ZookeeperError

# kazoo knows no ReconfigDisabled (-123): without this its connection loop dies on that answer.
if -123 not in exceptions.EXCEPTIONS:
    @exceptions._zookeeper_exception(-123)
    class ReconfigDisabledError(ZookeeperError):
        pass


def one(hosts):
    su = KazooClient(hosts=hosts, timeout=20, auth_data=[('digest', 'super:test')])
    su.start(timeout=20)
    try:
        su.reconfig(joining='server.100=127.0.0.1:1:2:observer;3', leaving=None, new_members=None)
        code = 0
    except ZookeeperError as e:
        code = e.code
    print('RESULT ' + json.dumps({'code': code}), flush=True)
    su.stop()


def main():
    if sys.argv[1] == '--one':
        return one(sys.argv[2])
    hosts = sys.argv[1]
    ports = [int(p) for p in sys.argv[2:11]]
    p1, p2, p3 = ports[0:3]
    anon = KazooClient(hosts=hosts, timeout=20)
    anon.start(timeout=20)
    su = KazooClient(hosts=hosts, timeout=20, auth_data=[('digest', 'super:test')])
    su.start(timeout=20)
    out = []

    def step(name, client, **kw):
        kw.setdefault('joining', None)
        kw.setdefault('leaving', None)
        kw.setdefault('new_members', None)
        try:
            data, stat = client.reconfig(**kw)
            text = data.decode('utf8')
            out.append({'step': name, 'code': 0, 'version': text.split('\n')[-1], 'lines': len(text.split('\n')), 'statVersion': stat.version})
            return text
        except ZookeeperError as e:
            out.append({'step': name, 'code': e.code})
            return None

    cfg, _ = anon.get('/zookeeper/config')
    version = int(cfg.decode('utf8').split('\n')[-1].split('=')[1], 16)
    observer = 'server.100=0.0.0.0:%d:%d:observer;0.0.0.0:%d' % (p1, p2, p3)
    step('noSuperAuth', anon, joining='server.999=0.0.0.0:1234:2345:observer;3456')
    step('badInput', su, joining='some thing')
    step('futureVersion', su, joining=observer, from_config=version + 1)
    text = step('addObserver', su, joining=observer)
    if text is not None:
        out[-1]['hasJoiner'] = observer in text
        version = int(text.split('\n')[-1].split('=')[1], 16)
    text = step('removeObserver', su, leaving='100')
    if text is not None:
        out[-1]['hasJoiner'] = observer in text
    step('staleVersion', su, leaving='100', from_config=version)
    step('noClientPort', su, joining='server.101=127.0.0.1:%d:%d:observer' % (p1, p2))
    step('twoPorts', su, joining='server.101=127.0.0.1:%d;%d' % (p1, p3))
    # Three more voters that never connect: the synced members are no majority of the new config.
    joiners = ['server.%d=127.0.0.1:%d:%d:participant;127.0.0.1:%d' % (101 + i, ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]) for i in range(3)]
    step('unsyncedParticipants', su, joining=','.join(joiners))
    step('leaveNonNumeric', su, leaving='abc')
    # Loopback and wildcard addresses escape ZooKeeper's duplicate check; a TEST-NET one (never
    # reached: observers are not connected to) does not.
    step('addFarObserver', su, joining='server.105=192.0.2.1:%d:%d:observer;192.0.2.1:%d' % (p1, p2, p3))
    step('duplicateAddress', su, joining='server.106=192.0.2.1:%d:%d:observer;192.0.2.1:%d' % (ports[3], p2, ports[4]))
    step('removeFarObserver', su, leaving='105')
    step('tooFewVoters', su, leaving='1,2')
    step('badNewMembers', su, new_members='server.1=nonsense')
    step('leaveUnknown', su, leaving='77')
    print('RESULT ' + json.dumps(out), flush=True)
    anon.stop()
    su.stop()


main()

root='/work/wt/tunnels/'
import re, os
def sub(path, old, new, count=1):
    s=open(root+path).read()
    assert old in s, (path, old[:70])
    s=s.replace(old,new,count)
    open(root+path,'w').write(s)
# The old outer-address hash and its tests give way to FanoutClassifier's (tests/fanout_classifier_test.cc).
os.remove(root+'dataplane/live/live_fanout.h')
s=open(root+'tests/live_record_ring_test.cc').read()
print([m.start() for m in re.finditer('BOOST_AUTO_TEST_CASE', s)])
open('/tmp/tunnels-draft/live_record_ring_test.cc.orig','w').write(s)
s=open(root+'tests/live_record_ring_test.cc').read()
s=s.replace('''// Tests for RecordRing (the worker → control thread record hand-over) and FanoutHash (which
// worker a frame from a single-queue port goes to).''', '''// Tests for RecordRing (the worker → control thread record hand-over). Which worker a frame goes
// to is FanoutClassifier's (tests/fanout_classifier_test.cc).''')
s=s.replace('#include "dataplane/live/live_fanout.h"\n','')
s=s.replace('using misdirect::dataplane::fanout_hash;\n','')
a=s.index('// An Ethernet frame with optional VLAN tags')
b=s.index('}  // namespace', a)
s=s[:a]+s[b:]
a=s.index('BOOST_AUTO_TEST_SUITE(live_fanout)')
b=s.index('BOOST_AUTO_TEST_SUITE_END()', a)+len('BOOST_AUTO_TEST_SUITE_END()\n')
s=s[:a].rstrip('\n')+'\n'+s[b:]
open(root+'tests/live_record_ring_test.cc','w').write(s)
sub('tests/meson.build', "'live_record_ring_test.cc',", "'live_record_ring_test.cc',\n  'fanout_classifier_test.cc',")

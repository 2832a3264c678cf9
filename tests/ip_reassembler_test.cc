// IpReassembler tests: order, overlap (first wins), duplicates, timeout, slot and byte caps,
// bad fragments, IPv6 keys. Frames end to end are in packet_decoder_test.cc.
#include "dataplane/decode/ip_reassembler.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace misdirect::dataplane {
namespace {

using Bytes = std::vector<uint8_t>;

// Distinct bytes at every position, so a misplaced copy shows.
Bytes pattern(std::size_t length, uint8_t seed = 0) {
  Bytes bytes(length);
  for (std::size_t i = 0; i < length; ++i) {
    bytes[i] = static_cast<uint8_t>(i * 7 + i / 251 + seed);
  }
  return bytes;
}

Bytes slice(const Bytes& bytes, std::size_t begin, std::size_t end) {
  return Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
               bytes.begin() + static_cast<std::ptrdiff_t>(end));
}

FragmentKey key(uint32_t id, uint8_t version = 4) {
  FragmentKey k;
  k.src.version = version;
  k.dst.version = version;
  k.src.bytes[0] = 10;
  k.dst.bytes[0] = 192;
  k.dst.bytes[3] = 7;
  k.id = id;
  k.protocol = version == 4 ? 6 : 0;
  return k;
}

struct Reassembler {
  explicit Reassembler(IpReassemblerConfig config = {}) : reassembler(config) {}

  FragmentResult add(uint32_t offset, const Bytes& data, bool more, uint64_t now_ns = 0,
                     FragmentKey fragment_key = key(1), uint8_t next_header = 6) {
    Fragment fragment;
    fragment.key = fragment_key;
    fragment.offset_bytes = offset;
    fragment.more_fragments = more;
    fragment.next_header = next_header;
    fragment.data = data.data();
    fragment.length = static_cast<uint32_t>(data.size());
    return reassembler.add(fragment, now_ns, out);
  }
  Bytes result() const { return Bytes(out.data, out.data + out.length); }
  uint64_t count(IpReassemblerCounter counter) const { return reassembler.counters().get(counter); }

  IpReassembler reassembler;
  ReassembledDatagram out;
};

int as_int(FragmentResult result) { return static_cast<int>(result); }
constexpr int kHeld = static_cast<int>(FragmentResult::kHeld);
constexpr int kComplete = static_cast<int>(FragmentResult::kComplete);
constexpr int kDropped = static_cast<int>(FragmentResult::kDropped);

}  // namespace

BOOST_AUTO_TEST_SUITE(ip_reassembler)

BOOST_AUTO_TEST_CASE(in_order_across_block_boundaries) {
  Reassembler r;
  const Bytes datagram = pattern(4000);
  BOOST_TEST(as_int(r.add(0, slice(datagram, 0, 1480), true)) == kHeld);
  BOOST_TEST(as_int(r.add(1480, slice(datagram, 1480, 2960), true)) == kHeld);
  BOOST_TEST(r.reassembler.bytes_held() == 3u * 1024u);
  BOOST_TEST(as_int(r.add(2960, slice(datagram, 2960, 4000), false)) == kComplete);
  BOOST_TEST(r.out.length == 4000u);
  BOOST_TEST(r.out.protocol == 6);
  BOOST_TEST((r.result() == datagram));
  BOOST_TEST(r.count(IpReassemblerCounter::kFragments) == 3u);
  BOOST_TEST(r.count(IpReassemblerCounter::kReassembled) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
  BOOST_TEST(r.reassembler.bytes_held() == 0u);
}

BOOST_AUTO_TEST_CASE(out_of_order) {
  const Bytes datagram = pattern(64, 3);
  // Every order of four 16-byte fragments completes on the fourth with the same bytes.
  std::vector<int> order = {0, 1, 2, 3};
  int orders = 0;
  do {
    Reassembler r;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const uint32_t begin = static_cast<uint32_t>(order[i]) * 16;
      const FragmentResult result = r.add(begin, slice(datagram, begin, begin + 16), order[i] != 3);
      BOOST_TEST(as_int(result) == (i + 1 == order.size() ? kComplete : kHeld));
    }
    BOOST_TEST((r.result() == datagram));
    ++orders;
  } while (std::next_permutation(order.begin(), order.end()));
  BOOST_TEST(orders == 24);
}

BOOST_AUTO_TEST_CASE(overlap_first_data_wins) {
  Reassembler r;
  const Bytes first(16, 'a');
  const Bytes second(16, 'b');  // covers [8, 24): its first 8 bytes overlap
  BOOST_TEST(as_int(r.add(0, first, true)) == kHeld);
  BOOST_TEST(as_int(r.add(8, second, true)) == kHeld);
  BOOST_TEST(as_int(r.add(24, Bytes(8, 'c'), false)) == kComplete);
  Bytes expected(16, 'a');
  expected.insert(expected.end(), 8, 'b');
  expected.insert(expected.end(), 8, 'c');
  BOOST_TEST((r.result() == expected));
  BOOST_TEST(r.count(IpReassemblerCounter::kOverlaps) == 1u);
  BOOST_TEST(r.count(IpReassemblerCounter::kDuplicates) == 0u);
}

BOOST_AUTO_TEST_CASE(overlap_spanning_two_holes) {
  // Held: [8,16) and [24,32). A fragment [0,40) fills [0,8), [16,24) and [32,40) only.
  Reassembler r;
  BOOST_TEST(as_int(r.add(8, Bytes(8, 'x'), true)) == kHeld);
  BOOST_TEST(as_int(r.add(24, Bytes(8, 'y'), true)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(40, 'n'), false)) == kComplete);
  const std::string got(r.out.data, r.out.data + r.out.length);
  BOOST_TEST(got == "nnnnnnnnxxxxxxxxnnnnnnnnyyyyyyyynnnnnnnn");
  BOOST_TEST(r.count(IpReassemblerCounter::kOverlaps) == 1u);
}

BOOST_AUTO_TEST_CASE(duplicate_fragment) {
  Reassembler r;
  const Bytes datagram = pattern(48);
  BOOST_TEST(as_int(r.add(0, slice(datagram, 0, 24), true)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(24, 0xee), true)) == kHeld);  // same place, other bytes
  BOOST_TEST(as_int(r.add(0, slice(datagram, 0, 24), true)) == kHeld);
  BOOST_TEST(as_int(r.add(24, slice(datagram, 24, 48), false)) == kComplete);
  BOOST_TEST((r.result() == datagram));
  BOOST_TEST(r.count(IpReassemblerCounter::kDuplicates) == 2u);
  BOOST_TEST(r.count(IpReassemblerCounter::kOverlaps) == 0u);
  // A duplicate after completion starts a new datagram, which then times out.
  BOOST_TEST(as_int(r.add(24, slice(datagram, 24, 48), false)) == kHeld);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 1u);
}

BOOST_AUTO_TEST_CASE(timeout_from_the_first_fragment) {
  IpReassemblerConfig config;
  config.timeout_ns = 30'000'000'000;
  Reassembler r(config);
  BOOST_TEST(as_int(r.add(0, Bytes(16, 1), true, 5'000'000'000)) == kHeld);
  BOOST_TEST(as_int(r.add(16, Bytes(16, 1), true, 20'000'000'000)) == kHeld);
  r.reassembler.expire(34'999'999'999);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 1u);
  r.reassembler.expire(35'000'000'000);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
  BOOST_TEST(r.count(IpReassemblerCounter::kTimeouts) == 1u);
  BOOST_TEST(r.reassembler.bytes_held() == 0u);
  // The last fragment arriving late does not complete the dropped datagram.
  BOOST_TEST(as_int(r.add(32, Bytes(8, 1), false, 36'000'000'000)) == kHeld);
}

BOOST_AUTO_TEST_CASE(a_new_fragment_expires_old_datagrams) {
  IpReassemblerConfig config;
  config.timeout_ns = 1000;
  Reassembler r(config);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 1), true, 0, key(1))) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 1), true, 500, key(2))) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 1), true, 1200, key(3))) == kHeld);
  BOOST_TEST(r.count(IpReassemblerCounter::kTimeouts) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 2u);
}

BOOST_AUTO_TEST_CASE(full_slots_evict_the_oldest) {
  IpReassemblerConfig config;
  config.max_datagrams = 2;
  Reassembler r(config);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'a'), true, 1, key(1))) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'b'), true, 2, key(2))) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'c'), true, 3, key(3))) == kHeld);
  BOOST_TEST(r.count(IpReassemblerCounter::kEvictedSlots) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 2u);
  // Datagram 1 was evicted: its last fragment alone does not complete it (and evicts 2).
  BOOST_TEST(as_int(r.add(8, Bytes(8, 'a'), false, 4, key(1))) == kHeld);
  BOOST_TEST(r.count(IpReassemblerCounter::kEvictedSlots) == 2u);
  BOOST_TEST(as_int(r.add(8, Bytes(8, 'c'), false, 5, key(3))) == kComplete);
  BOOST_TEST((r.result() == Bytes(16, 'c')));
}

BOOST_AUTO_TEST_CASE(byte_cap_evicts_the_oldest_other_datagram) {
  IpReassemblerConfig config;
  config.max_datagram_bytes = 4096;  // 4 blocks of 1024
  config.memcap_bytes = 8192;        // 8 blocks in all
  Reassembler r(config);
  // Datagrams 1 and 2 each touch 4 blocks with 4 small fragments.
  for (uint32_t id : {1u, 2u}) {
    for (uint32_t block = 0; block < 4; ++block) {
      BOOST_TEST(as_int(r.add(block * 1024, Bytes(8, 1), true, id, key(id))) == kHeld);
    }
  }
  BOOST_TEST(r.reassembler.bytes_held() == 8192u);
  BOOST_TEST(as_int(r.add(0, Bytes(16, 'z'), true, 3, key(3))) == kHeld);
  BOOST_TEST(r.count(IpReassemblerCounter::kEvictedMemcap) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 2u);
  BOOST_TEST(r.reassembler.bytes_held() == 5u * 1024u);
  // Datagram 3 still completes.
  BOOST_TEST(as_int(r.add(16, Bytes(8, 'z'), false, 4, key(3))) == kComplete);
  BOOST_TEST((r.result() == Bytes(24, 'z')));
}

BOOST_AUTO_TEST_CASE(datagram_past_max_bytes_is_dropped_whole) {
  Reassembler r;
  BOOST_TEST(as_int(r.add(0, Bytes(1480, 0), true)) == kHeld);
  // 65528 + 16 > 65535: the "ping of death" shape.
  BOOST_TEST(as_int(r.add(65528, Bytes(16, 0), false)) == kDropped);
  BOOST_TEST(r.count(IpReassemblerCounter::kTooBig) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
  // Exactly 65535 is fine.
  BOOST_TEST(as_int(r.add(65528, Bytes(7, 0), false)) == kHeld);
}

BOOST_AUTO_TEST_CASE(too_many_fragments) {
  IpReassemblerConfig config;
  config.max_fragments_per_datagram = 4;
  Reassembler r(config);
  for (uint32_t i = 0; i < 4; ++i) {
    BOOST_TEST(as_int(r.add(i * 8, Bytes(8, 0), true)) == kHeld);
  }
  BOOST_TEST(as_int(r.add(32, Bytes(8, 0), false)) == kDropped);
  BOOST_TEST(r.count(IpReassemblerCounter::kTooManyFragments) == 1u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_fragments_are_ignored) {
  Reassembler r;
  BOOST_TEST(as_int(r.add(0, Bytes(13, 0), true)) == kDropped);  // not a multiple of 8
  BOOST_TEST(as_int(r.add(0, Bytes(), true)) == kDropped);       // empty, more to come
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
  BOOST_TEST(as_int(r.add(0, Bytes(16, 'a'), true)) == kHeld);
  BOOST_TEST(as_int(r.add(24, Bytes(8, 'a'), false)) == kHeld);  // ends at 32
  BOOST_TEST(as_int(r.add(24, Bytes(16, 'a'), false)) == kDropped);  // a second, different end
  BOOST_TEST(as_int(r.add(32, Bytes(8, 'a'), true)) == kDropped);    // past the end
  BOOST_TEST(r.count(IpReassemblerCounter::kBadFragment) == 4u);
  BOOST_TEST(as_int(r.add(16, Bytes(8, 'a'), true)) == kComplete);
  BOOST_TEST(r.out.length == 32u);
}

BOOST_AUTO_TEST_CASE(last_fragment_before_held_data_is_bad) {
  Reassembler r;
  BOOST_TEST(as_int(r.add(64, Bytes(8, 0), true)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 0), false)) == kDropped);  // would end before byte 72
  BOOST_TEST(r.count(IpReassemblerCounter::kBadFragment) == 1u);
}

BOOST_AUTO_TEST_CASE(ipv6_protocol_comes_from_the_first_fragment) {
  Reassembler r;
  // Non-first fragments carry whatever next header; the first one's counts.
  BOOST_TEST(as_int(r.add(16, Bytes(8, 'q'), false, 0, key(0x12345678, 6), 99)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(16, 'p'), true, 0, key(0x12345678, 6), 60)) == kComplete);
  BOOST_TEST(r.out.protocol == 60);
  BOOST_TEST(r.out.length == 24u);
}

BOOST_AUTO_TEST_CASE(keys_keep_datagrams_apart) {
  Reassembler r;
  FragmentKey v6 = key(1, 6);
  FragmentKey other_protocol = key(1);
  other_protocol.protocol = 17;
  FragmentKey other_src = key(1);
  other_src.src.bytes[3] = 9;
  // Same id everywhere; four datagrams.
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'a'), true, 0, key(1))) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'b'), true, 0, v6)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'c'), true, 0, other_protocol)) == kHeld);
  BOOST_TEST(as_int(r.add(0, Bytes(8, 'd'), true, 0, other_src)) == kHeld);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 4u);
  BOOST_TEST(as_int(r.add(8, Bytes(8, 'B'), false, 0, v6)) == kComplete);
  BOOST_TEST(std::string(r.out.data, r.out.data + r.out.length) == "bbbbbbbbBBBBBBBB");
  BOOST_TEST(as_int(r.add(8, Bytes(8, 'C'), false, 0, other_protocol)) == kComplete);
  BOOST_TEST(std::string(r.out.data, r.out.data + r.out.length) == "ccccccccCCCCCCCC");
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 2u);
}

BOOST_DATA_TEST_CASE(many_datagrams_share_hash_buckets,
                     boost::unit_test::data::make({uint64_t{0}, uint64_t{0x9e3779b97f4a7c15}})) {
  // Interleave 300 datagrams through 256 slots: the oldest 44 are evicted, the rest complete.
  IpReassemblerConfig config;
  config.max_datagrams = 256;
  config.hash_seed = sample;
  Reassembler r(config);
  for (uint32_t id = 0; id < 300; ++id) {
    BOOST_TEST(as_int(r.add(0, pattern(8, static_cast<uint8_t>(id)), true, id, key(id))) == kHeld);
  }
  BOOST_TEST(r.count(IpReassemblerCounter::kEvictedSlots) == 44u);
  uint32_t completed = 0;
  for (uint32_t id = 44; id < 300; ++id) {
    if (r.add(8, pattern(8, 1), false, 300, key(id)) == FragmentResult::kComplete &&
        r.out.data[0] == static_cast<uint8_t>(id)) {
      ++completed;
    }
  }
  BOOST_TEST(completed == 256u);
  BOOST_TEST(r.reassembler.datagrams_in_progress() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_configuration_names_the_field) {
  auto message = [](IpReassemblerConfig config) {
    try {
      IpReassembler reassembler(config);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  IpReassemblerConfig config;
  config.max_datagrams = 0;
  BOOST_TEST(message(config).find("max_datagrams") != std::string::npos);
  config = {};
  config.max_datagram_bytes = 70000;
  BOOST_TEST(message(config).find("max_datagram_bytes") != std::string::npos);
  config = {};
  config.memcap_bytes = 65535;  // 64 blocks are needed: 65536
  BOOST_TEST(message(config).find("memcap_bytes") != std::string::npos);
  config = {};
  config.timeout_ns = 0;
  BOOST_TEST(message(config).find("timeout_ns") != std::string::npos);
  config = {};
  config.max_fragments_per_datagram = 0;
  BOOST_TEST(message(config).find("max_fragments_per_datagram") != std::string::npos);
  BOOST_TEST(message(IpReassemblerConfig{}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane

// LearnedAddressBook: facts learned by one worker are found by every worker, expire with their TTL
// capped at the maximum age, are evicted oldest first (counted), and are refreshed in place; a
// reader racing a writer never sees a torn fact.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "dataplane/app/learned_address_book.h"

namespace misdirect::dataplane {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress address;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  address.version = 4;
  return address;
}

LearnedFact address_fact(const IpAddress& address, std::string_view origin, std::string_view host, uint64_t now,
                         uint32_t ttl) {
  LearnedFact fact;
  fact.kind = LearnedFact::Kind::kAddress;
  fact.address = address;
  fact.resolver = v4(192, 0, 2, 53);
  fact.origin_length = static_cast<uint8_t>(origin.size());
  std::memcpy(fact.origin.data(), origin.data(), origin.size());
  fact.host_length = static_cast<uint8_t>(host.size());
  std::memcpy(fact.host.data(), host.data(), host.size());
  fact.learned_ns = now;
  fact.ttl = ttl;
  return fact;
}

LearnedBookConfig config(uint32_t workers, uint32_t facts, uint64_t max_age_s) {
  LearnedBookConfig out;
  out.workers = workers;
  out.facts_per_worker = facts;
  out.max_age_ns = max_age_s * kSecond;
  return out;
}

BOOST_AUTO_TEST_SUITE(learned_address_book)

BOOST_AUTO_TEST_CASE(one_worker_learns_another_finds) {
  LearnedAddressBook book(config(2, 64, 3600));
  CounterArray<LearnedCounter> writer;
  CounterArray<LearnedCounter> reader;
  BOOST_TEST(book.learn(1, address_fact(v4(203, 0, 113, 53), "army.ml", "mx1.army.ml", 100 * kSecond, 300), writer));
  LearnedFact found;
  BOOST_TEST(book.find_address(v4(203, 0, 113, 53), 101 * kSecond, found, reader));
  BOOST_TEST(found.origin_view() == "army.ml");
  BOOST_TEST(found.host_view() == "mx1.army.ml");
  BOOST_TEST((found.resolver == v4(192, 0, 2, 53)));
  BOOST_TEST(found.learned_ns == 100 * kSecond);
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 54), 101 * kSecond, found, reader));
  BOOST_TEST(reader.get(LearnedCounter::kAddressLookups) == 2u);
  BOOST_TEST(reader.get(LearnedCounter::kAddressHits) == 1u);
}

BOOST_AUTO_TEST_CASE(ttl_and_maximum_age) {
  LearnedAddressBook book(config(1, 64, 600));
  CounterArray<LearnedCounter> counters;
  book.learn(0, address_fact(v4(203, 0, 113, 1), "army.ml", "army.ml", 0, 30), counters);
  book.learn(0, address_fact(v4(203, 0, 113, 2), "army.ml", "army.ml", 0, 86400), counters);
  LearnedFact found;
  BOOST_TEST(book.find_address(v4(203, 0, 113, 1), 29 * kSecond, found, counters));
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 1), 30 * kSecond, found, counters));
  // A day's TTL is held for the maximum age only.
  BOOST_TEST(book.find_address(v4(203, 0, 113, 2), 599 * kSecond, found, counters));
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 2), 600 * kSecond, found, counters));
  BOOST_TEST(counters.get(LearnedCounter::kExpiredSkipped) == 2u);
}

BOOST_AUTO_TEST_CASE(a_fact_learned_after_the_readers_moment_is_not_found) {
  // replay --workers: a worker that ran ahead learned it; a reader at an earlier packet time
  // does not know it yet (one worker reading the file in order would not).
  LearnedAddressBook book(config(2, 64, 3600));
  CounterArray<LearnedCounter> counters;
  book.learn(0, address_fact(v4(203, 0, 113, 53), "army.ml", "mx1.army.ml", 100 * kSecond, 300), counters);
  LearnedFact found;
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 53), 99 * kSecond, found, counters));
  BOOST_TEST(book.find_address(v4(203, 0, 113, 53), 100 * kSecond, found, counters));
  BOOST_TEST(counters.get(LearnedCounter::kExpiredSkipped) == 0u);
}

BOOST_AUTO_TEST_CASE(exchanges_are_found_by_name) {
  LearnedAddressBook book(config(3, 64, 3600));
  CounterArray<LearnedCounter> counters;
  LearnedFact exchange = address_fact(IpAddress{}, "army.ml", "mail.provider.example", 0, 300);
  exchange.kind = LearnedFact::Kind::kExchange;
  book.learn(2, exchange, counters);
  LearnedFact found;
  BOOST_TEST(book.find_exchange("mail.provider.example", kSecond, found, counters));
  BOOST_TEST(found.origin_view() == "army.ml");
  BOOST_TEST(!book.find_exchange("mail.provider.exampl", kSecond, found, counters));
  // An address fact is not an exchange and the other way round.
  BOOST_TEST(!book.find_address(IpAddress{}, kSecond, found, counters));
}

BOOST_AUTO_TEST_CASE(full_table_evicts_the_oldest_and_counts) {
  LearnedAddressBook book(config(1, 8, 3600));
  CounterArray<LearnedCounter> counters;
  for (uint8_t i = 0; i < 10; ++i) {
    book.learn(0, address_fact(v4(203, 0, 113, i), "army.ml", "army.ml", i * kSecond, 3600), counters);
  }
  LearnedFact found;
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 0), 20 * kSecond, found, counters));
  BOOST_TEST(!book.find_address(v4(203, 0, 113, 1), 20 * kSecond, found, counters));
  for (uint8_t i = 2; i < 10; ++i) {
    BOOST_TEST(book.find_address(v4(203, 0, 113, i), 20 * kSecond, found, counters));
  }
  BOOST_TEST(counters.get(LearnedCounter::kEvicted) == 2u);
}

BOOST_AUTO_TEST_CASE(the_same_fact_again_is_refreshed_not_duplicated) {
  LearnedAddressBook book(config(1, 4, 3600));
  CounterArray<LearnedCounter> counters;
  for (int i = 0; i < 10; ++i) {
    book.learn(0, address_fact(v4(203, 0, 113, 9), "army.ml", "mx1.army.ml", i * 100 * kSecond, 300), counters);
  }
  book.learn(0, address_fact(v4(203, 0, 113, 8), "navy.ml", "navy.ml", 1000 * kSecond, 300), counters);
  LearnedFact found;
  BOOST_TEST(book.find_address(v4(203, 0, 113, 9), 1100 * kSecond, found, counters));
  BOOST_TEST(found.learned_ns == 900 * kSecond);
  BOOST_TEST(counters.get(LearnedCounter::kRefreshed) == 9u);
  BOOST_TEST(counters.get(LearnedCounter::kEvicted) == 0u);
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_refused) {
  BOOST_CHECK_THROW(LearnedAddressBook(config(0, 64, 60)), std::invalid_argument);
  BOOST_CHECK_THROW(LearnedAddressBook(config(1, 100, 60)), std::invalid_argument);
  BOOST_CHECK_THROW(LearnedAddressBook(config(1, 1u << 17, 60)), std::invalid_argument);
  BOOST_CHECK_THROW(LearnedAddressBook(config(1, 64, 0)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_reader_racing_the_writer_never_sees_a_torn_fact) {
  // The writer keeps rewriting one address with facts whose origin and host agree on a number;
  // a reader on another thread must only ever see matching pairs.
  LearnedAddressBook book(config(2, 16, 3600));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0};
  std::atomic<uint64_t> seen{0};
  std::thread reader([&] {
    CounterArray<LearnedCounter> counters;
    LearnedFact found;
    while (!stop.load(std::memory_order_relaxed)) {
      if (book.find_address(v4(203, 0, 113, 7), kSecond, found, counters)) {
        seen.fetch_add(1, std::memory_order_relaxed);
        const std::string origin(found.origin_view());
        const std::string host(found.host_view());
        if (host != "mx" + origin.substr(1) || found.ttl != static_cast<uint32_t>(std::stoul(origin.substr(1)))) {
          torn.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  });
  CounterArray<LearnedCounter> counters;
  for (uint32_t i = 1; i < 200000 && (i < 2000 || seen.load() < 1000); ++i) {
    const std::string number = std::to_string(i);
    book.learn(0, address_fact(v4(203, 0, 113, 7), "n" + number, "mx" + number, 0, i), counters);
  }
  stop = true;
  reader.join();
  BOOST_TEST(torn.load() == 0u);
  BOOST_TEST(seen.load() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::dataplane

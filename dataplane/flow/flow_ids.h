// FlowIds: the `flow_id` of every flow a worker creates — a 51-bit number, as Suricata's, so it
// is exact in JSON readers that hold numbers as doubles (jq, JavaScript).
//
// Each id is a keyed permutation of (worker << 40 | sequence number) over the 51-bit space:
//   - a permutation, so no two flows of one run share an id, across all workers (up to 2,048
//     workers and 2^40 flows each) — every worker of a run must use the same salt;
//   - keyed by a salt drawn at random once per run, so the ids of two runs (or two sensors)
//     appended to one file look independent: a given pair collides with chance 2^-51;
//   - stable for a flow: drawn once when the flow is created and kept in its record.
// The permutation is rounds of: add a key word, multiply by an odd constant (mod 2^51), and
// fold the high half into the low half — each step invertible, so the whole is.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

class FlowIds {
 public:
  static constexpr int kIdBits = 51;
  static constexpr uint64_t kIdMask = (uint64_t{1} << kIdBits) - 1;
  static constexpr int kSequenceBits = 40;
  static constexpr uint32_t kMaxWorkers = 1u << (kIdBits - kSequenceBits);

  // `salt`: the run's secret (the same for every worker of the run). `worker_id` must be below
  // kMaxWorkers (callers check; it is taken modulo kMaxWorkers).
  FlowIds(uint32_t worker_id, uint64_t salt) noexcept
      : prefix_(uint64_t{worker_id % kMaxWorkers} << kSequenceBits) {
    uint64_t state = salt;
    for (uint64_t& key : keys_) {
      key = split_mix(state) & kIdMask;
    }
  }

  uint64_t next() noexcept {
    sequence_ = (sequence_ + 1) & ((uint64_t{1} << kSequenceBits) - 1);
    return permute(prefix_ | sequence_);
  }

  // The id of (worker, sequence) under this salt: what next() returns for that sequence number.
  uint64_t permute(uint64_t value) const noexcept {
    constexpr uint64_t kMultipliers[kRounds] = {0x5bd1e9955bd1e995ull, 0x9e3779b97f4a7c15ull,
                                                0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull};
    uint64_t x = value & kIdMask;
    for (int round = 0; round < kRounds; ++round) {
      x = (x + keys_[round]) & kIdMask;
      x = (x * (kMultipliers[round] | 1)) & kIdMask;
      x ^= x >> 26;
    }
    return x;
  }

 private:
  static constexpr int kRounds = 4;

  static uint64_t split_mix(uint64_t& state) noexcept {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  uint64_t keys_[kRounds] = {};
  uint64_t prefix_;
  uint64_t sequence_ = 0;
};

}  // namespace misdirect::dataplane

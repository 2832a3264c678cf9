// TldList: the built-in top-level domains and multi-label public suffixes.
//
// Only a real TLD can receive mail, so TLD-swap variants are kept only when their last label is
// in this list. The multi-label suffixes (gov.uk, co.uk, com.au, …) decide where the registrable
// label ends; they are a hand-picked subset of the Public Suffix List, not the whole of it.
#pragma once

#include <span>
#include <string_view>

namespace misdirect::inspect {

// Every IANA country-code TLD plus the generic TLDs that carry most mail.
bool is_known_tld(std::string_view label) noexcept;

// The public suffix of a canonical domain: the longest built-in multi-label suffix that ends the
// domain at a label boundary and leaves at least one label before it, else the last label.
std::string_view public_suffix(std::string_view domain) noexcept;

// Generic TLDs every protected domain's TLD is swapped for ("army.mil" → "army.com").
std::span<const std::string_view> common_swap_tlds() noexcept;

// Labels inserted into a public suffix ("mod.gov.uk" → "mod.gov.co.uk", "army.mil" → "army.mil.co").
std::span<const std::string_view> inserted_suffix_labels() noexcept;

std::span<const std::string_view> known_tlds() noexcept;
std::span<const std::string_view> multi_label_suffixes() noexcept;

}  // namespace misdirect::inspect

// LookalikeCheck: the verdict the sensor would give one address or domain, with the reason when
// it is not a look-alike — for `misdirect check` and the control socket's `check` command, so an
// analyst can ask the engine instead of guessing from the lists.
#pragma once

#include <string>
#include <string_view>

#include "inspect/lookalike_kind.h"
#include "inspect/matcher.h"

namespace misdirect::control {

struct CheckAnswer {
  std::string input;            // as given
  std::string domain;           // canonical domain judged ("" when the input has none)
  bool lookalike = false;
  inspect::LookalikeKind kind = inspect::LookalikeKind::kTldSwap;
  std::string protected_domain;
  std::string variant;
  // Not a look-alike: why, in words ("army.mil is protected", "allowed by the allow list
  // (examplebank.co)", "no look-alike of a protected domain", "not a valid domain: ...").
  std::string reason;
  // The percent hack (`user%army.ml@relay.example`): `domain` is the next hop after the last '%',
  // judged because the address's own domain (`relay`, as given) is no look-alike.
  bool percent_hack = false;
  std::string relay;
};

// Judges `input` — an address (local@domain) or a domain — with `matcher` as a recipient's
// domain is judged on the packet path, the percent hack's next hop included. Cold path.
CheckAnswer check_lookalike(const inspect::Matcher& matcher, inspect::MatcherScratch& scratch,
                            std::string_view input);

// One line for people: "bob@army.ml: look-alike of army.mil (tld-swap, army.ml)" or
// "army.mil: not a look-alike: army.mil is protected".
std::string describe_answer(const CheckAnswer& answer);
// One JSON object: {"input","domain","lookalike",("protected","kind","variant")|"reason"}, and
// "judged" {"domain","reason":"percent-hack","relay"} when the next hop was the look-alike.
std::string answer_json(const CheckAnswer& answer);

}  // namespace misdirect::control

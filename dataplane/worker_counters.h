// WorkerCounter: the worker's own counter table — frames in, how flows were classified (SMTP by
// port or by behaviour, LMTP, implicit TLS, DNS, other) and the slots that ran out. The units it
// owns (decoder, flow table, reassembly, SMTP, DNS, evidence) keep tables of their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

enum class WorkerCounter : uint16_t {
  kPackets,
  kBytes,
  kTcpPackets,
  kOtherIpPackets,
  kFragmentsHeld,
  kDecodeDrops,
  kSmtpFlowsByPort,
  kSmtpFlowsDetected,
  kSmtpFlowsTunnelled,
  kImplicitTlsFlows,
  kLmtpFlowsByPort,
  kOtherFlows,
  kSmtpSessionsUnavailable,
  kSmtpStreamGaps,
  kDetectionAbandoned,
  kDnsDatagrams,
  kDnsFlows,
  kDnsSessionsUnavailable,
  kCount,
};

inline constexpr CounterInfo kWorkerCounterInfo[] = {
    {"packets", "frames given to the worker"},
    {"bytes", "bytes of those frames on the wire"},
    {"tcp_packets", "TCP segments decoded"},
    {"other_ip_packets", "IP packets that are not TCP (counted, not inspected)"},
    {"fragments_held", "IP fragments held for reassembly"},
    {"decode_drops", "frames the decoder dropped (decoder counters say why)"},
    {"smtp_flows_by_port", "flows on a configured SMTP port"},
    {"smtp_flows_detected", "flows found to be SMTP by behaviour (220 greeting, EHLO/HELO answer)"},
    {"smtp_flows_tunnelled", "of those, SMTP inside an HTTP CONNECT or SOCKS5 tunnel"},
    {"implicit_tls_flows", "flows on port 465 (SMTP over TLS: only the ClientHello is read)"},
    {"lmtp_flows_by_port", "flows on port 24 (LMTP presumed until the client's LHLO, EHLO or HELO says)"},
    {"other_flows", "TCP flows that are not SMTP"},
    {"smtp_sessions_unavailable", "SMTP flows not inspected because every session slot was in use"},
    {"smtp_stream_gaps", "gaps reported to SMTP sessions"},
    {"detection_abandoned", "flows whose detection met a gap before deciding"},
    {"dns_datagrams", "UDP datagrams to or from a DNS port (given to the flow table and DnsFlow)"},
    {"dns_flows", "UDP or TCP flows on a DNS port"},
    {"dns_sessions_unavailable", "DNS flows not inspected because every DNS slot (or TCP buffer) was in use"},
};
static_assert(std::size(kWorkerCounterInfo) == static_cast<std::size_t>(WorkerCounter::kCount));

}  // namespace misdirect::dataplane

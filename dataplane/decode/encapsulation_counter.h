// EncapsulationCounter: the decoder's counters for tunnels and other encapsulations — packets per
// encapsulation opened, malformed ones, and encapsulations recognised but not decoded, by kind,
// so that an operator sees what a mirror delivers that misdirect does not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

enum class EncapsulationCounter : uint16_t {
  kVxlan,
  kGeneve,
  kGre,
  kErspanType1,
  kErspanType2,
  kErspanType3,
  kIpv4InIpv4,
  kIpv6InIpv4,
  kIpv4InIpv6,
  kIpv6InIpv6,
  kMpls,
  kMplsPseudowire,
  kPppoeSession,
  kDepthExceeded,
  kVxlanMalformed,
  kGeneveMalformed,
  kGeneveOam,
  kGreMalformed,
  kErspanMalformed,
  kMplsMalformed,
  kPppoeMalformed,
  kPppoeControl,
  kPppoeDiscovery,
  kUnsupportedGreVersion,
  kUnsupportedGreRouting,
  kUnsupportedGreProtocol,
  kUnsupportedGeneveProtocol,
  kUnsupportedErspanFrameType,
  kUnsupportedMplsPayload,
  kUnsupportedPppProtocol,
  kUnsupportedVxlanGpe,
  kUnsupportedGtpU,
  kUnsupportedL2tp,
  kUnsupportedTeredo,
  kUnsupportedEtherIp,
  kUnsupportedPbb,
  kUnsupportedMacsec,
  kUnsupportedNsh,
  kCount,
};

inline constexpr CounterInfo kEncapsulationCounterInfo[] = {
    {"vxlan", "VXLAN packets opened (UDP to a --vxlan-ports port)"},
    {"geneve", "GENEVE packets opened (UDP to a --geneve-ports port)"},
    {"gre", "GRE packets opened (any payload, ERSPAN included)"},
    {"erspan_type_i", "ERSPAN type I packets opened (GRE 0x88be without a sequence number)"},
    {"erspan_type_ii", "ERSPAN type II packets opened"},
    {"erspan_type_iii", "ERSPAN type III packets opened (with or without the platform sub-header)"},
    {"ipv4_in_ipv4", "IPv4 packets carried in IPv4 (IP protocol 4)"},
    {"ipv6_in_ipv4", "IPv6 packets carried in IPv4 (6in4, IP protocol 41)"},
    {"ipv4_in_ipv6", "IPv4 packets carried in IPv6 (4in6, DS-Lite)"},
    {"ipv6_in_ipv6", "IPv6 packets carried in IPv6"},
    {"mpls", "MPLS label stacks walked"},
    {"mpls_pseudowire", "of those, Ethernet pseudowires (with or without a control word)"},
    {"pppoe_session", "PPPoE session packets carrying IPv4 or IPv6"},
    {"depth_exceeded",
     "packets dropped for more nested encapsulations than --max-encapsulation-depth"},
    {"vxlan_malformed", "VXLAN headers cut short or without the VNI flag (dropped)"},
    {"geneve_malformed", "GENEVE headers cut short, of an unknown version, or options past the end"},
    {"geneve_oam", "GENEVE OAM packets (control traffic, not tenant traffic; not decoded)"},
    {"gre_malformed", "GRE headers cut short (dropped)"},
    {"erspan_malformed", "ERSPAN headers cut short or of a version that does not match (dropped)"},
    {"mpls_malformed", "MPLS label stacks cut short or deeper than 16 labels (dropped)"},
    {"pppoe_malformed", "PPPoE session headers of a wrong version, type or code, or cut short"},
    {"pppoe_control", "PPPoE session packets carrying PPP control (LCP, IPCP, ...; not IP)"},
    {"pppoe_discovery", "PPPoE discovery packets (0x8863; not IP)"},
    {"unsupported_gre_version", "GRE version 1 (PPTP) packets: not decoded"},
    {"unsupported_gre_routing", "GRE packets with RFC 1701 source routing: not decoded"},
    {"unsupported_gre_protocol",
     "GRE packets carrying neither Ethernet, IPv4, IPv6, MPLS nor ERSPAN: not decoded"},
    {"unsupported_geneve_protocol",
     "GENEVE packets carrying neither Ethernet, IPv4 nor IPv6: not decoded"},
    {"unsupported_erspan_frame_type", "ERSPAN type III packets whose frame is not Ethernet"},
    {"unsupported_mpls_payload", "MPLS label stacks followed by neither IP nor a pseudowire"},
    {"unsupported_ppp_protocol", "PPPoE session packets of a PPP network protocol other than IP"},
    {"unsupported_vxlan_gpe", "UDP datagrams on port 4790 (VXLAN-GPE): not decoded"},
    {"unsupported_gtp_u", "UDP datagrams on port 2152 (GTP-U): not decoded"},
    {"unsupported_l2tp", "L2TP (UDP port 1701 or IP protocol 115): not decoded"},
    {"unsupported_teredo", "UDP datagrams on port 3544 (Teredo): not decoded"},
    {"unsupported_etherip", "EtherIP packets (IP protocol 97): not decoded"},
    {"unsupported_pbb", "802.1ah provider backbone frames (0x88e7): not decoded"},
    {"unsupported_macsec", "MACsec frames (0x88e5, encrypted): not decoded"},
    {"unsupported_nsh", "network service header frames (0x894f): not decoded"},
};
static_assert(std::size(kEncapsulationCounterInfo) ==
              static_cast<std::size_t>(EncapsulationCounter::kCount));

}  // namespace misdirect::dataplane

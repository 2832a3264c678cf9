// FlowIdentity: who talks to whom in one flow, oriented client → server, as records print it.
#pragma once

#include <cstdint>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/packet_view.h"
#include "dataplane/flow/community_id.h"

namespace misdirect::dataplane {

struct FlowIdentity {
  uint64_t flow_id = 0;
  IpAddress client;
  IpAddress server;
  uint16_t client_port = 0;
  uint16_t server_port = 0;
  uint16_t vlan_ids[2] = {0, 0};
  uint8_t vlan_count = 0;
  uint8_t protocol = 6;  // 6 TCP, 17 UDP
  // The live port the flow's first packet arrived on (PacketView::input; kNoInput in replay):
  // records write its name as `in_iface`.
  uint8_t input = kNoInput;
  CommunityId community_id;  // written when present
  // The encapsulations around the flow's first packet (layer_count 0: none): records show the
  // outer header as Suricata's `tunnel` object and the kind and id under `misdirect`.
  TunnelInfo tunnel;
};

}  // namespace misdirect::dataplane

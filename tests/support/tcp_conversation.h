// TcpConversation: builds the frames of one TCP connection with correct sequence numbers, so
// worker tests can write a session as "client says X, server says Y".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tests/support/packet_builder.h"

namespace misdirect::test_support {

class TcpConversation {
 public:
  TcpConversation(std::string client, uint16_t client_port, std::string server, uint16_t server_port,
                  uint32_t client_isn = 1000, uint32_t server_isn = 5000)
      : client_(std::move(client)),
        server_(std::move(server)),
        client_port_(client_port),
        server_port_(server_port),
        client_next_(client_isn),
        server_next_(server_isn) {}

  LinkSpec link;

  Bytes syn() { return frame(true, dataplane::kTcpSyn, {}); }
  Bytes syn_ack() { return frame(false, dataplane::kTcpSyn | dataplane::kTcpAck, {}); }
  Bytes ack() { return frame(true, dataplane::kTcpAck, {}); }
  Bytes client(std::string_view data) { return frame(true, dataplane::kTcpAck | dataplane::kTcpPsh, data); }
  Bytes server(std::string_view data) { return frame(false, dataplane::kTcpAck | dataplane::kTcpPsh, data); }
  Bytes client_fin() { return frame(true, dataplane::kTcpFin | dataplane::kTcpAck, {}); }
  Bytes server_fin() { return frame(false, dataplane::kTcpFin | dataplane::kTcpAck, {}); }
  // Any flags, no payload (a RST, say).
  Bytes frame_with_flags(bool from_client, uint8_t flags) { return frame(from_client, flags, {}); }

 private:
  Bytes frame(bool from_client, uint8_t flags, std::string_view data) {
    TcpFrameSpec spec;
    spec.link = link;
    spec.ip.version = client_.find(':') != std::string::npos ? 6 : 4;
    spec.ip.src = from_client ? client_ : server_;
    spec.ip.dst = from_client ? server_ : client_;
    spec.tcp.src_port = from_client ? client_port_ : server_port_;
    spec.tcp.dst_port = from_client ? server_port_ : client_port_;
    uint32_t& next = from_client ? client_next_ : server_next_;
    spec.tcp.seq = next;
    spec.tcp.ack = from_client ? server_next_ : client_next_;
    spec.tcp.flags = flags;
    spec.tcp.payload = bytes_of(data);
    next += static_cast<uint32_t>(data.size());
    if ((flags & (dataplane::kTcpSyn | dataplane::kTcpFin)) != 0) {
      next += 1;
    }
    return build_tcp_frame(spec);
  }

  std::string client_;
  std::string server_;
  uint16_t client_port_;
  uint16_t server_port_;
  uint32_t client_next_;
  uint32_t server_next_;
};

}  // namespace misdirect::test_support

// Worker: what each flow is and where its bytes go. A flow's first packet classifies it by port
// (DNS, implicit TLS on 465, SMTP or LMTP, or left to behaviour detection); its reassembled bytes
// and gaps then go to its DnsFlow, its SmtpFlow (made when the flow turns out to be SMTP) or the
// AppDetector; its end finishes whichever session it had and frees the session's slots.
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>

#include "dataplane/flow/community_id.h"
#include "dataplane/worker.h"
#include "dataplane/worker_impl.h"

namespace misdirect::dataplane {

FlowIdentity Worker::Impl::identity_of(const Flow& flow) const noexcept {
  FlowIdentity identity;
  identity.flow_id = flow.flow_id;
  identity.client.bytes = flow.client_address();
  identity.server.bytes = flow.server_address();
  identity.client.version = flow.key.ip_version;
  identity.server.version = flow.key.ip_version;
  identity.client_port = flow.client_port();
  identity.server_port = flow.server_port();
  identity.vlan_ids[0] = flow.key.vlan_ids[0];
  identity.vlan_ids[1] = flow.key.vlan_ids[1];
  identity.vlan_count = flow.key.vlan_ids[1] != 0 ? 2 : (flow.key.vlan_ids[0] != 0 ? 1 : 0);
  identity.protocol = flow.key.protocol;
  identity.input = flow.input;
  identity.community_id =
      community_id_v1({identity.client, identity.client_port}, {identity.server, identity.server_port},
                      flow.key.protocol, config.community_id_seed);
  if ((flow.app_state & kAppTunnelled) != 0) {
    identity.tunnel = flow_tunnel(flow);
  }
  return identity;
}

DnsFlow* Worker::Impl::dns_for(Flow& flow) noexcept {
  FlowApp* app = app_for(flow);
  if (app == nullptr) {
    stop_inspecting(flow);
    return nullptr;
  }
  if (app->dns_slot != kNoSlot) {
    return dns_slots[app->dns_slot].get();
  }
  const bool tcp = flow.key.protocol != kProtoUdp;
  if (free_dns_slots.empty() || (tcp && free_dns_tcp_buffers.empty())) {
    counters.add(WorkerCounter::kDnsSessionsUnavailable);
    if (tcp) {
      stop_inspecting(flow);
    } else {
      flow.app_state &= static_cast<uint8_t>(~kAppInspect);
      release_app(flow);
    }
    return nullptr;
  }
  app->dns_slot = free_dns_slots.back();
  free_dns_slots.pop_back();
  std::span<uint8_t> buffer;
  if (tcp) {
    app->dns_tcp_buffer = free_dns_tcp_buffers.back();
    free_dns_tcp_buffers.pop_back();
    buffer = std::span<uint8_t>(dns_tcp_buffers.get() + std::size_t{app->dns_tcp_buffer} * kDnsTcpBufferBytes,
                                kDnsTcpBufferBytes);
  }
  return new (dns_slots[app->dns_slot].storage)
      DnsFlow(dns_environment, identity_of(flow),
              tcp ? inspect::DnsTransport::kTcp : inspect::DnsTransport::kUdp, buffer);
}

FlowApp* Worker::Impl::app_for(Flow& flow) noexcept {
  if (flow.app_slot != Flow::kNoApp) {
    return &flow_app(flow.app_slot);
  }
  uint32_t slot;
  if (!free_flow_apps.empty()) {
    slot = free_flow_apps.back();
    free_flow_apps.pop_back();
  } else if (flow_apps_fresh < config.max_flows) {
    slot = flow_apps_fresh++;
  } else {
    return nullptr;  // cannot happen: at most one FlowApp per flow record
  }
  flow.app_slot = slot;
  FlowApp* app = new (&flow_app(slot)) FlowApp{};
  if ((flow.app_state & kAppSmtpByPort) != 0) {
    app->detection.protocol = AppProtocol::kSmtp;
    app->detection.stage = AppDetection::Stage::kDecided;
    app->detection.client_known = true;  // by port: start_flow set Flow::client
  }
  return app;
}

void Worker::Impl::release_app(Flow& flow) noexcept {
  if (flow.app_slot == Flow::kNoApp || flow_app(flow.app_slot).smtp_slot != kNoSlot ||
      flow_app(flow.app_slot).dns_slot != kNoSlot) {
    return;  // an SMTP or DNS session keeps its FlowApp until the flow ends
  }
  free_flow_apps.push_back(flow.app_slot);
  flow.app_slot = Flow::kNoApp;
}

void Worker::Impl::start_flow(Flow& flow) noexcept {
  flow.app_slot = Flow::kNoApp;
  flow.app_state = kAppInspect;
  // The flow table took the client from the first packet (the SYN's sender, the SYN/ACK's
  // receiver, else the first sender). A service port overrides it when only one end uses it:
  // the server listens there. With both ends on it (relay to relay) the table's choice stands.
  const uint16_t client_port = flow.client_port();
  const uint16_t server_port = flow.server_port();
  const bool dns_client = dns_ports.test(client_port);
  const bool dns_server = dns_ports.test(server_port);
  if (dns_client || dns_server) {
    // The querier is the end off the DNS port.
    if (dns_client && !dns_server) {
      flow.swap_client();
    }
    counters.add(WorkerCounter::kDnsFlows);
    flow.app_state = kAppInspect | kAppDns;
    count_dns_stream(flow, +1);
    return;
  }
  if (client_port == kImplicitTlsPort || server_port == kImplicitTlsPort) {
    // SMTP over TLS: nothing of the session is readable but the ClientHello (its server name)
    // and the server's address (a look-alike's DNS answer may have given it).
    counters.add(WorkerCounter::kImplicitTlsFlows);
    if (client_port == kImplicitTlsPort && server_port != kImplicitTlsPort) {
      flow.swap_client();
    }
    flow.app_state |= kAppSmtpByPort | kAppImplicitTls;
    return;
  }
  const bool smtp_client = smtp_ports.test(client_port) || client_port == kLmtpPort;
  const bool smtp_server = smtp_ports.test(server_port) || server_port == kLmtpPort;
  if (smtp_client || smtp_server) {
    if (smtp_client && !smtp_server) {
      flow.swap_client();
    }
    const bool lmtp = flow.server_port() == kLmtpPort;
    counters.add(lmtp ? WorkerCounter::kLmtpFlowsByPort : WorkerCounter::kSmtpFlowsByPort);
    flow.app_state |= kAppSmtpByPort | (lmtp ? kAppLmtp : 0);
    return;
  }
  if (!config.port_agnostic_detection) {
    counters.add(WorkerCounter::kOtherFlows);
    flow.app_state = 0;
  }
}

void Worker::Impl::become_smtp(Flow& flow, FlowApp& app) noexcept {
  if (free_smtp_slots.empty()) {
    counters.add(WorkerCounter::kSmtpSessionsUnavailable);
    stop_inspecting(flow);
    return;
  }
  app.smtp_slot = free_smtp_slots.back();
  free_smtp_slots.pop_back();

  const FlowIdentity identity = identity_of(flow);
  SmtpFlowStart start;
  start.implicit_tls = (flow.app_state & kAppImplicitTls) != 0;
  start.lmtp = (flow.app_state & kAppLmtp) != 0;
  // An SMTP connection to an address a look-alike's DNS answer gave (any worker may have seen
  // the answer: the book is shared, read without locks).
  LearnedFact evidence;
  if (learned_smtp_ports.test(identity.server_port) && dns_environment.learned != nullptr) {
    order_learned_read();
    if (dns_environment.learned->find_address(identity.server, now_ns, evidence, learned_counters)) {
      start.evidence = &evidence;
    }
  }
  char* line_buffer = line_buffers.get() + std::size_t{app.smtp_slot} * config.max_line_bytes;
  new (smtp_slots[app.smtp_slot].storage)
      SmtpFlow(environment, identity, std::span<char>(line_buffer, config.max_line_bytes), start);
}

void Worker::Impl::stop_inspecting(Flow& flow) noexcept {
  flow.app_state &= static_cast<uint8_t>(~kAppInspect);
  release_after_segment = &flow;
  if (evidence != nullptr) {
    evidence->on_inspection_end(flows.slot_of(flow));
  }
}

void Worker::Impl::feed_smtp(Flow& flow, FlowApp& app, inspect::Direction direction,
                             std::span<const uint8_t> bytes) noexcept {
  if (app.smtp_slot == kNoSlot || bytes.empty()) {
    return;
  }
  // Replies can overtake the commands they answer when the client's stream waits on a hole.
  const bool client_lagging = direction == inspect::Direction::kServerToClient &&
                              flow.stream(inspect::Direction::kClientToServer).holds_data();
  smtp_slots[app.smtp_slot].get()->feed(direction, bytes, now_ns, client_lagging);
}

void Worker::Impl::stream_data(Flow& flow, inspect::Direction direction,
                               std::span<const uint8_t> bytes) noexcept {
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  FlowApp* app_record = app_for(flow);
  if (app_record == nullptr) {
    stop_inspecting(flow);
    return;
  }
  FlowApp& app = *app_record;
  if ((flow.app_state & kAppDns) != 0) {
    DnsFlow* dns = dns_for(flow);
    if (dns != nullptr && !bytes.empty()) {
      if (direction == inspect::Direction::kServerToClient) {
        order_learned_read();  // an answer may name an exchanger another worker learned
      }
      dns->feed(direction, bytes, now_ns);
    }
    return;
  }
  if (app.detection.protocol == AppProtocol::kSmtp) {
    if (app.smtp_slot == kNoSlot) {
      become_smtp(flow, app);
    }
    feed_smtp(flow, app, direction, bytes);
    return;
  }
  const DetectStep step = AppDetector::on_data(app.detection, direction, bytes);
  if (step.client_swapped) {
    // The end taken for the server (the flow table's guess, say on a midstream pickup that began
    // with the server's greeting) answered as the client: from here on every byte of the flow,
    // these included, travels the other way.
    flow.swap_client();
    direction = opposite(direction);
  }
  switch (step.protocol) {
    case AppProtocol::kUndecided:
      return;
    case AppProtocol::kSmtp: {
      counters.add(WorkerCounter::kSmtpFlowsDetected);
      if (app.detection.tunnelled) {
        counters.add(WorkerCounter::kSmtpFlowsTunnelled);
      }
      become_smtp(flow, app);
      feed_smtp(flow, app, direction,
                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(step.replay.data()),
                                         step.replay.size()));
      feed_smtp(flow, app, direction, bytes.subspan(step.consumed));
      return;
    }
    case AppProtocol::kImplicitTls:
    case AppProtocol::kOther:
      counters.add(WorkerCounter::kOtherFlows);
      stop_inspecting(flow);
      return;
  }
}

void Worker::Impl::stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept {
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  // No FlowApp yet: no bytes arrived, so no session started and detection saw nothing.
  const FlowApp empty;
  const FlowApp& app = flow.app_slot != Flow::kNoApp ? flow_app(flow.app_slot) : empty;
  if ((flow.app_state & kAppDns) != 0) {
    if (app.dns_slot != kNoSlot) {
      dns_slots[app.dns_slot].get()->gap(direction, missing_bytes, now_ns);
    }
    return;
  }
  if (app.smtp_slot != kNoSlot) {
    counters.add(WorkerCounter::kSmtpStreamGaps);
    smtp_slots[app.smtp_slot].get()->gap(direction, missing_bytes, now_ns);
    return;
  }
  if (app.detection.protocol != AppProtocol::kSmtp && (flow.app_state & kAppSmtpByPort) == 0) {
    // Detection reads the first bytes of each direction; with some of them lost it cannot decide.
    counters.add(WorkerCounter::kDetectionAbandoned);
    stop_inspecting(flow);
  }
  // A port-based SMTP flow whose session has not started yet: the session starts at the next byte.
}

void Worker::Impl::on_stream_end(Flow& flow, inspect::Direction) noexcept {
  // While one direction is still open the session waits, so that replies that trail the client's
  // FIN are still matched. Once both have ended nothing more can reach it: it ends now rather
  // than with the flow record (closed_timeout_ns later), so that its slot serves the next session
  // (a busy relay ends more sessions within one closed timeout than there are slots).
  if (!flow.stream(inspect::Direction::kClientToServer).ended() ||
      !flow.stream(inspect::Direction::kServerToClient).ended()) {
    return;
  }
  end_session(flow);
  flow.app_state &= static_cast<uint8_t>(~kAppInspect);  // the last ACKs skip the reassembler
}

void Worker::Impl::end_session(Flow& flow) noexcept {
  if (flow.app_slot == Flow::kNoApp) {
    return;
  }
  FlowApp& app = flow_app(flow.app_slot);
  if (app.smtp_slot != kNoSlot) {
    SmtpFlow* session = smtp_slots[app.smtp_slot].get();
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    session->finish(now_ns);
    note_alerts(flow, alerts_before);
    session->~SmtpFlow();
    free_smtp_slots.push_back(app.smtp_slot);
    app.smtp_slot = kNoSlot;
    if (evidence != nullptr) {
      // The session is over: a flow that did not alert gives its buffer back.
      evidence->on_inspection_end(flows.slot_of(flow));
    }
  }
  if (app.dns_slot != kNoSlot) {
    DnsFlow* dns = dns_slots[app.dns_slot].get();
    dns->finish(now_ns);
    dns->~DnsFlow();
    free_dns_slots.push_back(app.dns_slot);
    app.dns_slot = kNoSlot;
    if (app.dns_tcp_buffer != kNoSlot) {
      free_dns_tcp_buffers.push_back(app.dns_tcp_buffer);
      app.dns_tcp_buffer = kNoSlot;
    }
  }
  free_flow_apps.push_back(flow.app_slot);
  flow.app_slot = Flow::kNoApp;
}

void Worker::Impl::on_flow_end(Flow& flow, FlowEndReason) noexcept {
  if (flow.key.protocol == kProtoUdp) {
    // No reassembly for datagrams.
  } else if ((flow.app_state & kAppInspect) != 0) {
    // Holes still open become gaps and held bytes after them are delivered before the end.
    reassembler.finish(flow, *this);
  } else {
    reassembler.release(flow);
  }
  if (release_after_segment == &flow) {
    release_after_segment = nullptr;
  }
  const bool dns = (flow.app_state & kAppDns) != 0;
  flow.app_state = 0;
  end_session(flow);
  if (evidence != nullptr) {
    evidence->on_flow_end(flows.slot_of(flow), flow.flow_id);
  }
  if (dns) {
    count_dns_stream(flow, -1);  // after the last bytes it held were delivered
  }
}

}  // namespace misdirect::dataplane

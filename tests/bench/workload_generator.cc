// workload_generator: the benchmark workloads of docs/benchmarks.md, written as pcap files from a
// seed, so that every run (and every machine) measures the same packets.
//
// Usage: workload_generator --workload NAME --out FILE [--seed N] [--packets N] [--flows N]
//                           [--concurrency N]
// Workloads:
//   smtp-heavy      100% SMTP; bodies 2 KB–2 MB (Pareto, alpha 1.1); 1460-byte segments (1514-byte
//                   frames) with a delayed ACK every second segment; 10,000 concurrent flows; 1% of
//                   recipients are look-alikes of the protected list written by scripts/bench.
//   enterprise-mix  SMTP is 5% of the bytes; the rest is TCP (web, TLS, SSH) and UDP (DNS, QUIC)
//                   with IMIX frame sizes (64/594/1518 on the wire, 7:4:1); 100,000 concurrent flows.
//   adversarial     1-16-byte segments, 5% of data segments swapped with the next one, 2%
//                   retransmitted; a tenth of the flows are whole SMTP sessions, the rest short TCP
//                   flows that end with FIN, RST or nothing; --flows (default 1M) churned through
//                   50,000 concurrent flows.
//   small-packets   64–128-byte frames, 60% pure ACKs; a tenth of the flows are SMTP sessions cut
//                   into 40-byte segments; 10,000 concurrent flows.
//   enterprise-mix-dns  enterprise-mix whose UDP flows to port 53 carry real DNS: each packet pair a
//                   query and its response (A/AAAA/MX, compressed answers); 1% of the questions
//                   ask for a name under a look-alike of the protected list.
//   vxlan-mix       enterprise-mix, packet for packet (the same frames at the same times), each
//                   frame wrapped in VXLAN as a cloud traffic mirror delivers it (AWS VPC Traffic
//                   Mirroring, Azure vTAP): outer Ethernet, IPv4 10.255.0.1 → 10.255.0.2, UDP to
//                   4789 from a port picked by the inner flow (RFC 7348's entropy), VXLAN with
//                   VNI 4242 — 50 bytes more a frame.
//   smtp-commands   short SMTP sessions (two transactions, 10–50 RCPTs each, 1-line bodies), one
//                   command or reply per frame (~90 bytes); 1,000 concurrent flows.
// Stops after --packets packets (flows still open stay open, as in any capture window) or, with
// --flows, when that many flows have started and finished. Packets are paced at 10 Gbit/s of packet
// time from 2026-01-01. Checksums: IPv4 header only (the packet path does not verify any).
// Prints one JSON summary line: packets, bytes, flows, SMTP share, look-alike recipients sent.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace {

// splitmix64: small, fast, and the same sequence everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  uint32_t between(uint32_t low, uint32_t high) { return low + below(high - low + 1); }  // inclusive
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t state_;
};

constexpr uint64_t kStartNs = 1767225600ull * 1'000'000'000;  // 2026-01-01T00:00:00Z
constexpr double kPacingBitsPerNs = 10.0;                    // 10 Gbit/s
constexpr uint32_t kEthIpTcp = 14 + 20 + 20;
constexpr uint32_t kEthIpUdp = 14 + 20 + 8;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) {
      std::fprintf(stderr, "workload_generator: cannot write %s\n", path.c_str());
      std::exit(2);
    }
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 22);
    const uint32_t header[6] = {0xa1b23c4d, 0x00040002, 0, 0, 65535, 1};  // nanosecond pcap, Ethernet
    std::fwrite(header, sizeof(header), 1, file_);
  }
  ~PcapWriter() { std::fclose(file_); }

  void write(uint64_t ts_ns, const uint8_t* frame, uint32_t length) {
    const uint32_t record[4] = {static_cast<uint32_t>(ts_ns / 1'000'000'000),
                                static_cast<uint32_t>(ts_ns % 1'000'000'000), length, length};
    std::fwrite(record, sizeof(record), 1, file_);
    std::fwrite(frame, length, 1, file_);
  }

 private:
  std::FILE* file_;
};

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

uint16_t ip_checksum(const uint8_t* header) {
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) {
    sum += (uint32_t{header[i]} << 8) | header[i + 1];
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

// Ethernet + IPv4 headers; returns the offset of the L4 header.
uint32_t put_eth_ip(uint8_t* f, uint32_t src, uint32_t dst, uint8_t protocol, uint32_t ip_length,
                    uint16_t ip_id) {
  const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(f, macs, 12);
  f[5] = static_cast<uint8_t>(dst);
  f[11] = static_cast<uint8_t>(src);
  put16(f + 12, 0x0800);
  uint8_t* ip = f + 14;
  ip[0] = 0x45;
  ip[1] = 0;
  put16(ip + 2, static_cast<uint16_t>(ip_length));
  put16(ip + 4, ip_id);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = protocol;
  put16(ip + 10, 0);
  put32(ip + 12, src);
  put32(ip + 16, dst);
  put16(ip + 10, ip_checksum(ip));
  return 34;
}

// One TCP/UDP packet of a flow, waiting in the flow's queue. Payload is either `text` or
// `length` bytes of message body starting at `body_offset` (generated, never stored).
struct Segment {
  uint8_t from_server = 0;
  uint8_t flags = 0;
  bool udp = false;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint32_t length = 0;  // payload bytes
  int64_t body_offset = -1;
  uint32_t pad_to = 0;  // frame length to pad to (IMIX sizes without payload meaning)
  bool ends_rcpt = false;            // the last data segment of a RCPT command
  bool ends_lookalike_rcpt = false;  // ... whose recipient is a look-alike
  std::string text;
};

// Body bytes at any offset: 76-character lines of letters, so no "\r\n.\r\n" inside.
char body_byte(int64_t offset) {
  const int64_t column = offset % 78;
  if (column == 76) {
    return '\r';
  }
  if (column == 77) {
    return '\n';
  }
  return static_cast<char>('a' + (offset * 7 + offset / 78) % 26);
}

struct Protected {
  const char* domain;
  const char* lookalikes[4];
};

// Kept in step with the protected list scripts/bench writes (docs/benchmarks/protected.txt).
constexpr Protected kProtected[] = {
    {"army.mil", {"army.ml", "amry.mil", "arrny.mil", "armyy.mil"}},
    {"navy.mil", {"navy.ml", "nvay.mil", "navvy.mil", "navy-mil.com"}},
    {"examplebank.com", {"examp1ebank.com", "examplebank.co", "exampelbank.com", "example-bank.com"}},
    {"contoso.com", {"contosso.com", "cantoso.com", "contoso.co", "c0ntoso.com"}},
    {"defence.gov.uk", {"defense.gov.uk", "defence.gov.co.uk", "deffence.gov.uk", "defence-gov.uk"}},
};
const char* const kBenignDomains[] = {"example.org", "mail.example.net", "fabrikam.com",
                                      "northwind.example", "army.mil", "navy.mil", "contoso.com",
                                      "partner.example.co.uk", "lists.example.edu", "examplebank.com"};

struct Options {
  std::string workload;
  std::string out;
  uint64_t seed = 7;
  uint64_t packets = 0;
  uint64_t flows = 0;
  uint32_t concurrency = 0;
  uint64_t warmup = UINT64_MAX;  // packets made but not written; default: see main
};

struct Totals {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t smtp_bytes = 0;
  uint64_t flows_started = 0;
  uint64_t flows_finished = 0;
  uint64_t smtp_flows = 0;
  uint64_t rcpts = 0;
  uint64_t lookalike_rcpts = 0;
  uint64_t vxlan_bytes = 0;  // vxlan-mix: bytes written, the 50-byte wrap included
};

// vxlan-mix: the outer headers around every frame (Ethernet 14, IPv4 20, UDP 8, VXLAN 8).
constexpr uint32_t kVxlanOverhead = 14 + 20 + 8 + 8;
constexpr uint32_t kVxlanSource = 0x0aff0001;       // 10.255.0.1, the mirror source
constexpr uint32_t kVxlanDestination = 0x0aff0002;  // 10.255.0.2, the mirror target (the sensor)
constexpr uint32_t kVxlanVni = 4242;

// Wraps the inner frame that starts kVxlanOverhead bytes into `f`; returns the outer length.
// `entropy` picks the outer UDP source port, as a VTEP hashes the inner flow (RFC 7348, 5.).
uint32_t put_vxlan(uint8_t* f, uint32_t inner_length, uint16_t entropy, uint16_t ip_id) {
  const uint32_t udp_length = 8 + 8 + inner_length;
  uint32_t off = put_eth_ip(f, kVxlanSource, kVxlanDestination, 17, 20 + udp_length, ip_id);
  uint8_t* udp = f + off;
  put16(udp, static_cast<uint16_t>(49152 | (entropy & 0x3fff)));
  put16(udp + 2, 4789);
  put16(udp + 4, static_cast<uint16_t>(udp_length));
  put16(udp + 6, 0);  // no UDP checksum over IPv4, as VTEPs send it
  uint8_t* vxlan = udp + 8;
  put32(vxlan, 0x08000000);  // flags: VNI present
  put32(vxlan + 4, kVxlanVni << 8);
  return kVxlanOverhead + inner_length;
}

// What shape a flow's packets take.
struct Shape {
  uint32_t mss_min = 1460;
  uint32_t mss_max = 1460;
  uint32_t ack_every = 2;       // pure ACK from the receiver every N data segments (0: never)
  double reorder = 0;           // chance a data segment is swapped with the next one
  double retransmit = 0;        // chance a data segment is sent again after the next one
  double lookalike = 0.01;      // chance a recipient is a look-alike
  uint32_t rcpt_min = 1, rcpt_max = 3;
  uint32_t transactions = 1;
  bool heavy_body = true;       // Pareto 2 KB–2 MB; else a short body
  uint32_t short_body_bytes = 120;
};

// A flow: SMTP session, generic TCP, or UDP. Produces its packets one message at a time.
class Flow {
 public:
  enum class Kind : uint8_t { kSmtp, kTcp, kUdp };

  Flow(Kind kind, uint64_t index, Random& random, const Shape& shape) : kind_(kind), shape_(shape) {
    client_ = 0x0a000000u | static_cast<uint32_t>((index * 2654435761u) & 0x00ffffffu);
    server_ = 0xc0a80000u | static_cast<uint32_t>(random.below(4096) + 1);
    client_port_ = static_cast<uint16_t>(1024 + random.below(64000));
    seq_[0] = static_cast<uint32_t>(random.next());
    seq_[1] = static_cast<uint32_t>(random.next());
    id_ = index;
  }

  bool smtp() const { return kind_ == Kind::kSmtp; }
  bool done() const { return done_ && queue_.empty(); }
  std::deque<Segment>& queue() { return queue_; }
  uint32_t client() const { return client_; }
  uint32_t server() const { return server_; }
  uint16_t client_port() const { return client_port_; }
  uint16_t server_port() const { return server_port_; }
  uint16_t next_ip_id(bool from_server) { return ip_id_[from_server]++; }

  void set_server_port(uint16_t port) { server_port_ = port; }
  void set_dns() noexcept { dns_ = true; }
  void set_generic(uint32_t packets, bool small, int ending) {
    generic_packets_ = packets;
    small_ = small;
    ending_ = ending;
  }

  // Adds the next message's packets to the queue; marks the flow done after its last.
  void refill(Random& random) {
    switch (kind_) {
      case Kind::kSmtp:
        refill_smtp(random);
        break;
      case Kind::kTcp:
        refill_tcp(random);
        break;
      case Kind::kUdp:
        refill_udp(random);
        break;
    }
  }

 private:
  void control(bool from_server, uint8_t flags) {
    Segment s;
    s.from_server = from_server;
    s.flags = flags;
    s.seq = seq_[from_server];
    s.ack = seq_[!from_server];
    queue_.push_back(std::move(s));
    if (flags & (kSyn | kFin)) {
      seq_[from_server] += 1;
    }
  }

  void pure_ack(bool from_server) { control(from_server, kAck); }

  // A message cut into segments of the shape's sizes, with reordering, retransmission and ACKs.
  void message(Random& random, bool from_server, const std::string* text, int64_t body_offset,
               uint32_t length) {
    const std::size_t first = queue_.size();
    std::size_t last_data = first;
    uint32_t sent = 0;
    while (sent < length) {
      const uint32_t mss = random.between(shape_.mss_min, shape_.mss_max);
      Segment s;
      s.from_server = from_server;
      s.flags = kAck | kPsh;
      s.seq = seq_[from_server];
      s.ack = seq_[!from_server];
      s.length = std::min(mss, length - sent);
      if (text != nullptr) {
        s.text = text->substr(sent, s.length);
      } else {
        s.body_offset = body_offset + sent;
      }
      seq_[from_server] += s.length;
      sent += s.length;
      last_data = queue_.size();
      queue_.push_back(std::move(s));
      if (shape_.ack_every != 0 && ++unacked_[from_server] >= shape_.ack_every) {
        unacked_[from_server] = 0;
        pure_ack(!from_server);
      }
    }
    if (rcpt_pending_ && length > 0) {
      queue_[last_data].ends_rcpt = true;
      queue_[last_data].ends_lookalike_rcpt = lookalike_pending_;
    }
    rcpt_pending_ = false;
    lookalike_pending_ = false;
    // Disorder among this message's data segments (never across messages).
    for (std::size_t i = first; i + 1 < queue_.size(); ++i) {
      if (queue_[i].length == 0) {
        continue;
      }
      if (shape_.reorder > 0 && random.chance(shape_.reorder)) {
        std::swap(queue_[i], queue_[i + 1]);
        ++i;
      } else if (shape_.retransmit > 0 && random.chance(shape_.retransmit)) {
        Segment copy = queue_[i];
        copy.ends_rcpt = false;
        copy.ends_lookalike_rcpt = false;
        queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(i + 2 <= queue_.size() ? i + 2 : i + 1),
                      std::move(copy));
        i += 2;
      }
    }
  }

  void line(Random& random, bool from_server, const std::string& text) {
    message(random, from_server, &text, -1, static_cast<uint32_t>(text.size()));
  }

  // Look-alike recipients are counted when the segment ending their command is written.
  std::string recipient(Random& random) {
    rcpt_pending_ = true;
    std::string user = "user" + std::to_string(random.below(100000));
    if (random.chance(shape_.lookalike)) {
      const Protected& p = kProtected[random.below(std::size(kProtected))];
      // A recipient repeated in one flow alerts once: make each look-alike address unique.
      lookalike_pending_ = true;
      return user + "." + std::to_string(id_) + "." + std::to_string(step_) + "@" + p.lookalikes[random.below(4)];
    }
    return user + "@" + kBenignDomains[random.below(std::size(kBenignDomains))];
  }

  uint32_t body_length(Random& random) {
    if (!shape_.heavy_body) {
      return shape_.short_body_bytes;
    }
    // Pareto(alpha 1.1) from 2 KB, cut at 2 MB: most bodies are small, a few are huge.
    const double u = std::max(random.unit(), 1e-12);
    const double bytes = 2048.0 / std::pow(u, 1.0 / 1.1);
    return static_cast<uint32_t>(std::min(bytes, 2.0 * 1024 * 1024));
  }

  void refill_smtp(Random& random) {
    // Steps: 0 handshake, 1 greeting, 2 EHLO, 3 its reply, then per transaction MAIL/RCPT*/DATA/
    // body/end, then QUIT and FIN. `step_` walks a small program.
    switch (phase_) {
      case 0:
        control(false, kSyn);
        control(true, kSyn | kAck);
        control(false, kAck);
        line(random, true, "220 mx" + std::to_string(server_ & 0xfff) + ".example.net ESMTP\r\n");
        phase_ = 1;
        break;
      case 1:
        line(random, false, "EHLO client" + std::to_string(id_ % 1000) + ".example.org\r\n");
        line(random, true, "250 mx.example.net\r\n");
        phase_ = 2;
        break;
      case 2:
        line(random, false, "MAIL FROM:<sender" + std::to_string(id_ % 5000) + "@example.org>\r\n");
        line(random, true, "250 2.1.0 Ok\r\n");
        rcpts_left_ = random.between(shape_.rcpt_min, shape_.rcpt_max);
        phase_ = 3;
        break;
      case 3:
        line(random, false, "RCPT TO:<" + recipient(random) + ">\r\n");
        line(random, true, "250 2.1.5 Ok\r\n");
        ++step_;
        if (--rcpts_left_ == 0) {
          phase_ = 4;
        }
        break;
      case 4:
        line(random, false, "DATA\r\n");
        line(random, true, "354 End data with <CR><LF>.<CR><LF>\r\n");
        body_left_ = body_length(random);
        body_offset_ = 0;
        phase_ = 5;
        break;
      case 5: {
        // The body in chunks of at most 64 KB so a 2 MB body never sits in the queue whole.
        const uint32_t chunk = std::min<uint32_t>(body_left_, 65536);
        if (chunk > 0) {
          message(random, false, nullptr, body_offset_, chunk);
          body_offset_ += chunk;
          body_left_ -= chunk;
        }
        if (body_left_ == 0) {
          line(random, false, "\r\n.\r\n");
          line(random, true, "250 2.0.0 Ok: queued\r\n");
          phase_ = ++transaction_ < shape_.transactions ? 2 : 6;
        }
        break;
      }
      case 6:
        line(random, false, "QUIT\r\n");
        line(random, true, "221 2.0.0 Bye\r\n");
        control(false, kFin | kAck);
        control(true, kFin | kAck);
        control(false, kAck);
        done_ = true;
        break;
    }
  }

  uint32_t imix_frame(Random& random) {
    if (small_) {
      return random.between(60, 124);
    }
    const uint32_t pick = random.below(12);
    return pick < 7 ? 60 : pick < 11 ? 590 : 1514;
  }

  void refill_tcp(Random& random) {
    if (phase_ == 0) {
      control(false, kSyn);
      control(true, kSyn | kAck);
      control(false, kAck);
      // First bytes: what the service would say, so port-agnostic SMTP detection decides early.
      const bool from_server = server_port_ == 22;
      static const std::string kHttp = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
      static const std::string kSsh = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
      static const std::string kTls = std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
      const std::string& hello = server_port_ == 80 ? kHttp : server_port_ == 22 ? kSsh : kTls;
      line(random, from_server, hello);
      phase_ = 1;
      return;
    }
    if (emitted_ < generic_packets_) {
      // One packet: a pure ACK (smallest frames) or data of the frame size.
      const bool from_server = random.chance(0.6);
      const uint32_t frame = imix_frame(random);
      const bool ack_only = small_ ? random.chance(0.6) : frame == 60;
      if (ack_only) {
        pure_ack(from_server);
        queue_.back().pad_to = small_ ? frame : 60;
      } else {
        Segment s;
        s.from_server = from_server;
        s.flags = kAck | kPsh;
        s.seq = seq_[from_server];
        s.ack = seq_[!from_server];
        s.length = std::max<uint32_t>(frame, kEthIpTcp + 1) - kEthIpTcp;
        s.body_offset = static_cast<int64_t>(seq_[from_server]);
        seq_[from_server] += s.length;
        queue_.push_back(std::move(s));
        if (shape_.reorder > 0 && queue_.size() >= 2 && random.chance(shape_.reorder)) {
          std::swap(queue_[queue_.size() - 1], queue_[queue_.size() - 2]);
        } else if (shape_.retransmit > 0 && random.chance(shape_.retransmit)) {
          queue_.push_back(queue_.back());
        }
      }
      ++emitted_;
      return;
    }
    if (ending_ == 0) {
      control(false, kFin | kAck);
      control(true, kFin | kAck);
      control(false, kAck);
    } else if (ending_ == 1) {
      control(random.chance(0.5), kRst | kAck);
    }
    done_ = true;
  }

  // A DNS message: a query (from the client) or its response, for `name`, type `type`.
  static std::string dns_message(uint16_t id, bool response, const std::string& name, uint16_t type) {
    std::string out;
    const auto be16 = [&out](uint32_t value) {
      out += static_cast<char>((value >> 8) & 0xff);
      out += static_cast<char>(value & 0xff);
    };
    be16(id);
    be16(response ? 0x8180 : 0x0100);
    be16(1);
    be16(response ? 2 : 0);
    be16(0);
    be16(0);
    std::size_t start = 0;
    while (start < name.size()) {
      const std::size_t dot = std::min(name.find('.', start), name.size());
      out += static_cast<char>(dot - start);
      out.append(name, start, dot - start);
      start = dot + 1;
    }
    out += '\0';
    be16(type);
    be16(1);
    if (response) {
      for (int i = 0; i < 2; ++i) {
        be16(0xc00c);  // the question's name, compressed
        be16(type == 15 ? 15 : type);
        be16(1);
        be16(0);
        be16(300);
        if (type == 15) {
          be16(2 + 6);
          be16(10 * (i + 1));
          out += "\x03mx";
          out += static_cast<char>('1' + i);
          be16(0xc00c);
        } else if (type == 28) {
          be16(16);
          out += std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0", 15);
          out += static_cast<char>(i + 1);
        } else {
          be16(4);
          out += std::string("\xcb\x00\x71", 3);
          out += static_cast<char>(i + 1);
        }
      }
    }
    return out;
  }

  void refill_udp(Random& random) {
    if (dns_ && emitted_ < generic_packets_) {
      // A query, then its response.
      Segment s;
      s.udp = true;
      const bool response = (emitted_ % 2) == 1;
      s.from_server = response;
      if (!response) {
        dns_id_ = static_cast<uint16_t>(random.below(65536));
        static const uint16_t kTypes[] = {1, 1, 28, 15};
        dns_type_ = kTypes[random.below(4)];
        if (random.chance(0.01)) {
          const Protected& p = kProtected[random.below(std::size(kProtected))];
          dns_name_ = "mx." + std::string(p.lookalikes[random.below(4)]);
        } else {
          dns_name_ = "host" + std::to_string(random.below(5000)) + "." + kBenignDomains[random.below(std::size(kBenignDomains))];
        }
      }
      s.text = dns_message(dns_id_, response, dns_name_, dns_type_);
      s.length = static_cast<uint32_t>(s.text.size());
      queue_.push_back(std::move(s));
      ++emitted_;
      return;
    }
    if (emitted_ < generic_packets_) {
      Segment s;
      s.udp = true;
      s.from_server = random.chance(0.5);
      const uint32_t frame = imix_frame(random);
      s.length = std::max<uint32_t>(frame, kEthIpUdp + 1) - kEthIpUdp;
      s.body_offset = emitted_ * 1000;
      queue_.push_back(std::move(s));
      ++emitted_;
      return;
    }
    done_ = true;
  }

  Kind kind_;
  Shape shape_;
  bool dns_ = false;  // a UDP flow to port 53 of enterprise-mix-dns: real DNS messages
  uint16_t dns_id_ = 0;
  uint16_t dns_type_ = 1;
  std::string dns_name_;
  uint32_t client_ = 0, server_ = 0;
  uint16_t client_port_ = 0, server_port_ = 25;
  uint16_t ip_id_[2] = {1, 1};
  uint32_t seq_[2] = {0, 0};
  uint32_t unacked_[2] = {0, 0};
  uint64_t id_ = 0;
  int phase_ = 0;
  uint32_t step_ = 0;
  uint32_t rcpts_left_ = 0;
  uint32_t transaction_ = 0;
  uint32_t body_left_ = 0;
  int64_t body_offset_ = 0;
  uint32_t generic_packets_ = 0;
  uint32_t emitted_ = 0;
  bool small_ = false;
  int ending_ = 0;  // generic TCP: 0 FIN both ways, 1 RST, 2 nothing (left open)
  bool done_ = false;
  bool rcpt_pending_ = false;
  bool lookalike_pending_ = false;
  std::deque<Segment> queue_;
};

// The workload: which flows start, in what proportion, and how their packets interleave.
class Generator {
 public:
  explicit Generator(const Options& options) : options_(options), random_(options.seed) {
    const std::string& w = options.workload;
    if (w == "smtp-heavy") {
      concurrency_ = 10000;
    } else if (enterprise()) {
      concurrency_ = 100000;
    } else if (w == "adversarial") {
      concurrency_ = 50000;
    } else if (w == "small-packets") {
      concurrency_ = 10000;
    } else if (w == "smtp-commands") {
      concurrency_ = 1000;
    } else {
      std::fprintf(stderr,
                   "workload_generator: unknown workload '%s' (smtp-heavy, enterprise-mix, "
                   "enterprise-mix-dns, vxlan-mix, adversarial, small-packets, smtp-commands)\n", w.c_str());
      std::exit(2);
    }
    if (options.concurrency != 0) {
      concurrency_ = options.concurrency;
    }
    smtp_shape_.lookalike = 0.01;
    if (w == "adversarial") {
      smtp_shape_ = Shape{1, 16, 0, 0.05, 0.02, 0.01, 1, 3, 1, false, 300};
      other_shape_ = smtp_shape_;
    } else if (w == "small-packets") {
      smtp_shape_ = Shape{40, 40, 1, 0, 0, 0.01, 1, 3, 1, false, 400};
      other_shape_ = smtp_shape_;
    } else if (w == "smtp-commands") {
      smtp_shape_ = Shape{1460, 1460, 0, 0, 0, 0.01, 10, 50, 2, false, 30};
    } else if (enterprise()) {
      other_shape_ = Shape{1460, 1460, 0, 0, 0, 0, 1, 1, 1, false, 0};
    }
  }

  void run() {
    PcapWriter writer(options_.out);
    active_.reserve(concurrency_);
    while (active_.size() < concurrency_ && may_start()) {
      active_.push_back(start_flow());
    }
    std::vector<uint8_t> frame(kVxlanOverhead + 2048);
    while (!active_.empty()) {
      if (options_.packets != 0 && totals_.packets >= options_.packets) {
        break;
      }
      const std::size_t pick = pick_flow();
      Flow& flow = *active_[pick];
      if (flow.queue().empty()) {
        flow.refill(random_);
      }
      if (!flow.queue().empty()) {
        Segment segment = std::move(flow.queue().front());
        flow.queue().pop_front();
        if (skipped_ < options_.warmup) {
          ++skipped_;
        } else {
          emit(writer, flow, segment, frame.data());
        }
      }
      if (flow.done()) {
        ++totals_.flows_finished;
        if (may_start()) {
          active_[pick] = start_flow();
        } else {
          active_[pick] = std::move(active_.back());
          active_.pop_back();
        }
      }
    }
  }

  uint32_t concurrency() const { return concurrency_; }
  void set_warmup(uint64_t packets) { options_.warmup = packets; }

  void print_summary() const {
    std::printf(
        "{\"workload\":\"%s\",\"seed\":%llu,\"packets\":%llu,\"bytes\":%llu,\"smtp_bytes\":%llu,"
        "\"smtp_byte_share\":%.4f,\"flows_started\":%llu,\"flows_finished\":%llu,\"smtp_flows\":%llu,"
        "\"concurrency\":%u,\"warmup_packets\":%llu,\"rcpts\":%llu,\"lookalike_rcpts\":%llu,\"mean_frame_bytes\":%.1f,"
        "\"duration_ns\":%llu,\"vxlan_bytes\":%llu}\n",
        options_.workload.c_str(), static_cast<unsigned long long>(options_.seed),
        static_cast<unsigned long long>(totals_.packets), static_cast<unsigned long long>(totals_.bytes),
        static_cast<unsigned long long>(totals_.smtp_bytes),
        totals_.bytes ? static_cast<double>(totals_.smtp_bytes) / static_cast<double>(totals_.bytes) : 0.0,
        static_cast<unsigned long long>(totals_.flows_started),
        static_cast<unsigned long long>(totals_.flows_finished),
        static_cast<unsigned long long>(totals_.smtp_flows), concurrency_,
        static_cast<unsigned long long>(skipped_),
        static_cast<unsigned long long>(totals_.rcpts),
        static_cast<unsigned long long>(totals_.lookalike_rcpts),
        totals_.packets ? static_cast<double>(totals_.bytes) / static_cast<double>(totals_.packets) : 0.0,
        static_cast<unsigned long long>(now_ns_ - kStartNs),
        static_cast<unsigned long long>(totals_.vxlan_bytes));
  }

 private:
  void emit(PcapWriter& writer, Flow& flow, const Segment& segment, uint8_t* frame) {
    if (segment.ends_rcpt) {
      ++totals_.rcpts;
    }
    if (segment.ends_lookalike_rcpt) {
      ++totals_.lookalike_rcpts;
    }
    if (options_.workload == "vxlan-mix") {
      // The inner frame is built where the outer headers end; time and totals follow the inner
      // frame, so the capture is enterprise-mix's, packet for packet, at the same times.
      const uint32_t inner = build(flow, segment, frame + kVxlanOverhead);
      const uint32_t entropy = flow.client() ^ flow.server() ^ flow.client_port() ^ flow.server_port();
      const uint32_t outer = put_vxlan(frame, inner, static_cast<uint16_t>(entropy ^ (entropy >> 16)),
                                       static_cast<uint16_t>(totals_.packets));
      writer.write(now_ns_, frame, outer);
      totals_.vxlan_bytes += outer;
      account(flow, inner);
      return;
    }
    const uint32_t length = build(flow, segment, frame);
    writer.write(now_ns_, frame, length);
    account(flow, length);
  }

  // The frame's time on a 10 Gbit/s wire moves packet time on; totals count it.
  void account(const Flow& flow, uint32_t length) {
    now_ns_ += static_cast<uint64_t>((length + 24) * 8 / kPacingBitsPerNs) + 1;
    ++totals_.packets;
    totals_.bytes += length;
    if (flow.smtp()) {
      totals_.smtp_bytes += length;
    }
  }

  // The enterprise mix's flows and proportions: enterprise-mix itself, with DNS messages, or wrapped
  // in VXLAN.
  bool enterprise() const {
    const std::string& w = options_.workload;
    return w == "enterprise-mix" || w == "enterprise-mix-dns" || w == "vxlan-mix";
  }

  bool may_start() const { return options_.flows == 0 || totals_.flows_started < options_.flows; }

  // Enterprise-mix keeps SMTP at 5% of bytes by choosing an SMTP flow only while SMTP is behind.
  std::size_t pick_flow() {
    if (enterprise() && smtp_count_ > 0 &&
        skipped_ >= options_.warmup) {
      const bool want_smtp = static_cast<double>(totals_.smtp_bytes) < 0.05 * static_cast<double>(totals_.bytes);
      for (int tries = 0; tries < 64; ++tries) {
        const std::size_t i = random_.below(static_cast<uint32_t>(active_.size()));
        if (active_[i]->smtp() == want_smtp) {
          return i;
        }
      }
    }
    return random_.below(static_cast<uint32_t>(active_.size()));
  }

  std::unique_ptr<Flow> start_flow() {
    const uint64_t index = totals_.flows_started++;
    const std::string& w = options_.workload;
    Flow::Kind kind = Flow::Kind::kSmtp;
    if (enterprise()) {
      // 5% of the concurrent flows are SMTP; the byte share is kept by pick_flow.
      kind = random_.chance(0.05) ? Flow::Kind::kSmtp : random_.chance(0.3) ? Flow::Kind::kUdp : Flow::Kind::kTcp;
    } else if (w == "adversarial" || w == "small-packets") {
      kind = random_.chance(0.1) ? Flow::Kind::kSmtp : Flow::Kind::kTcp;
    }
    const Shape& shape = kind == Flow::Kind::kSmtp ? smtp_shape_ : other_shape_;
    auto flow = std::make_unique<Flow>(kind, index, random_, shape);
    if (kind == Flow::Kind::kSmtp) {
      ++totals_.smtp_flows;
      ++smtp_count_;
      static const uint16_t kSmtpPorts[] = {25, 25, 25, 587};
      flow->set_server_port(kSmtpPorts[random_.below(4)]);
    } else if (kind == Flow::Kind::kUdp) {
      const bool dns = random_.chance(0.5);
      flow->set_server_port(dns ? 53 : 443);
      if (dns && w == "enterprise-mix-dns") {
        flow->set_dns();
        flow->set_generic(2 * random_.between(1, 3), false, 2);  // one to three exchanges
      } else {
        flow->set_generic(random_.between(1, 60), false, 2);
      }
    } else {
      static const uint16_t kTcpPorts[] = {443, 443, 443, 80, 22};
      flow->set_server_port(kTcpPorts[random_.below(5)]);
      if (w == "adversarial") {
        flow->set_generic(random_.between(1, 4), true, static_cast<int>(random_.below(3)));
      } else if (w == "small-packets") {
        flow->set_generic(random_.between(10, 200), true, 0);
      } else {
        flow->set_generic(random_.between(4, 120), false, random_.chance(0.9) ? 0 : 1);
      }
    }
    return flow;
  }

  uint32_t build(Flow& flow, const Segment& s, uint8_t* f) {
    const uint32_t src = s.from_server ? flow.server() : flow.client();
    const uint32_t dst = s.from_server ? flow.client() : flow.server();
    const uint16_t sport = s.from_server ? flow.server_port() : flow.client_port();
    const uint16_t dport = s.from_server ? flow.client_port() : flow.server_port();
    const uint32_t l4 = s.udp ? 8 : 20;
    const uint32_t ip_length = 20 + l4 + s.length;
    const uint32_t off = put_eth_ip(f, src, dst, s.udp ? 17 : 6, ip_length, flow.next_ip_id(s.from_server));
    uint8_t* h = f + off;
    if (s.udp) {
      put16(h, sport);
      put16(h + 2, dport);
      put16(h + 4, static_cast<uint16_t>(8 + s.length));
      put16(h + 6, 0);
    } else {
      put16(h, sport);
      put16(h + 2, dport);
      put32(h + 4, s.seq);
      put32(h + 8, (s.flags & kAck) ? s.ack : 0);
      h[12] = 0x50;
      h[13] = s.flags;
      put16(h + 14, 65535);
      put16(h + 16, 0);
      put16(h + 18, 0);
    }
    uint8_t* payload = h + l4;
    if (!s.text.empty()) {
      std::memcpy(payload, s.text.data(), s.length);
    } else {
      for (uint32_t i = 0; i < s.length; ++i) {
        payload[i] = static_cast<uint8_t>(body_byte(s.body_offset + i));
      }
    }
    uint32_t length = off + l4 + s.length;
    const uint32_t minimum = std::max<uint32_t>(60, s.pad_to);
    if (length < minimum) {
      std::memset(f + length, 0, minimum - length);  // Ethernet padding: lengths come from IP
      length = minimum;
    }
    return length;
  }

  Options options_;
  Random random_;
  uint32_t concurrency_ = 0;
  Shape smtp_shape_;
  Shape other_shape_;
  std::vector<std::unique_ptr<Flow>> active_;
  Totals totals_;
  uint64_t smtp_count_ = 0;
  uint64_t skipped_ = 0;
  uint64_t now_ns_ = kStartNs;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--workload" && has_value) {
      options.workload = argv[++i];
    } else if (arg == "--out" && has_value) {
      options.out = argv[++i];
    } else if (arg == "--seed" && has_value) {
      options.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--packets" && has_value) {
      options.packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--flows" && has_value) {
      options.flows = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--warmup" && has_value) {
      options.warmup = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--concurrency" && has_value) {
      options.concurrency = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      std::fprintf(stderr,
                   "usage: workload_generator --workload NAME --out FILE [--seed N] [--packets N] "
                   "[--flows N] [--concurrency N]\n");
      return 2;
    }
  }
  if (options.workload.empty() || options.out.empty() || (options.packets == 0 && options.flows == 0)) {
    std::fprintf(stderr, "workload_generator: --workload, --out and --packets or --flows are required\n");
    return 2;
  }
  Generator generator(options);
  if (options.warmup == UINT64_MAX) {
    // A packet-budget capture starts after 30 packets per concurrent flow were made and not
    // written, so it opens with the flows already open (steady state, picked up midstream, as a
    // span port joining live traffic). A flow-budget capture (adversarial) starts from nothing.
    options.warmup = options.flows != 0 ? 0 : uint64_t{generator.concurrency()} * 30;
    generator.set_warmup(options.warmup);
  }
  generator.run();
  generator.print_summary();
  return 0;
}

#include "factory_station/labels/bind.h"

#include <unistd.h>

#include <set>
#include <sstream>

#include "common/identifier.h"
#include "common/label_code.h"
#include "common/rpc/status.h"
#include "factory_station/agent_link.h"
#include "factory_station/journal.h"
#include "factory_station/labels/records.h"
#include "factory_station/retry.h"
#include "factory_station/station_identity.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {
namespace {

struct Pair {
  std::string unit, scan;
};

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// One non-empty line (a scan), or false at the end of the input.
bool NextScan(std::istream& in, std::string* line) {
  while (std::getline(in, *line)) {
    if (!Fields(*line).empty()) return true;
  }
  return false;
}

class Binder {
 public:
  Binder(const BindOptions& o, Journal& journal, imprint::v1::CertificateAuthority::Stub& ca,
         grpc::ChannelInterface& channel, std::ostream& out, std::ostream& err)
      : o_(o), journal_(journal), ca_(ca), channel_(channel), out_(out), err_(err) {}

  void Bind(const Pair& p) {
    // Neither scan is shown unless it is what it should be: a scanner pointed at the wrong
    // barcode may have read a password.
    if (!IsValidIdentifier(p.unit)) {
      return Refuse("?", "the unit's scan is not a device id (" + std::to_string(p.unit.size()) +
                             " characters)");
    }
    if (!IsLabelCode(p.scan)) {
      return Refuse(p.unit, "the label scan is not a label code (" + std::to_string(p.scan.size()) +
                                " characters); scan the label's code barcode");
    }
    std::string note;
    auto owner = journal_.LabelOwner(o_.order, p.scan);
    if (owner && *owner && **owner != p.unit) {
      note = "; it carries the label of device " + **owner;
    } else if (owner && !*owner) {
      note = "; this station printed no label " + p.scan + " for order " + o_.order;
    }
    auto row = journal_.Label(o_.order, p.unit);
    imprint::v1::BindLabelRequest request;
    request.set_order_id(o_.order);
    request.set_device_id(p.unit);
    request.set_label_code(p.scan);
    request.set_prints(row && *row ? static_cast<uint32_t>((*row)->prints) : 0);
    imprint::v1::BindLabelResponse response;
    grpc::Status status = CallWithRetry(retry_, channel_, [&](grpc::ClientContext& c) {
      return ca_.BindLabel(&c, request, &response);
    });
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      return Refuse(p.unit, EscapeForDisplay(status.error_message(), 300) + note);
    }
    if (!status.ok()) {
      ++summary.unanswered;
      err_ << "imprint-station: NOT BOUND: unit " << p.unit << ": "
           << EscapeForDisplay(rpc::FromGrpcStatus(status).ToString(), 300) << "\n";
      return;
    }
    if (auto marked = journal_.LabelBound(o_.order, p.unit); !marked) {
      err_ << "imprint-station: the journal did not record the binding of " << p.unit << ": "
           << marked.error().message() << "\n";
    }
    bound_.insert(p.unit);
    if (response.already()) {
      ++summary.already;
      out_ << "already bound: " << p.unit << " " << p.scan << "\n";
    } else {
      ++summary.bound;
      out_ << "bound: " << p.unit << " " << p.scan << "\n";
    }
  }

  void Refuse(const std::string& unit, const std::string& why) {
    ++summary.refused;
    err_ << "imprint-station: REFUSED: unit " << unit << ": " << why << "\n" << std::flush;
    (void)journal_.LabelEvent(o_.order, IsValidIdentifier(unit) ? unit : "", "refused", why);
  }

  const std::set<std::string>& bound() const { return bound_; }
  BindSummary summary;

 private:
  const BindOptions& o_;
  Journal& journal_;
  imprint::v1::CertificateAuthority::Stub& ca_;
  grpc::ChannelInterface& channel_;
  std::ostream& out_;
  std::ostream& err_;
  RetryPolicy retry_;
  std::set<std::string> bound_;
};

}  // namespace

Result<BindSummary> BindLabels(const BindOptions& o, std::istream& in, std::ostream& out,
                               std::ostream& err) {
  if (!IsValidIdentifier(o.order)) return Fail(Code::kInvalidArgument, "invalid --order");
  IMPRINT_ASSIGN_OR_RETURN(StationIdentity identity, StationIdentity::Load(o.state_dir));
  IMPRINT_ASSIGN_OR_RETURN(auto journal, Journal::Open(o.state_dir + "/journal.db"));
  IMPRINT_ASSIGN_OR_RETURN(std::string listener, identity.FindStationListener(o.ca_address));
  RetryPolicy retry;
  auto channel = identity.Connect(listener, retry);
  auto stub = imprint::v1::CertificateAuthority::NewStub(channel);
  Binder binder(o, *journal, *stub, *channel, out, err);
  bool prompt = ::isatty(STDIN_FILENO) == 1;
  std::string line;
  if (!o.devices.empty()) {
    for (const std::string& address : o.devices) {
      auto agent = OpenAgentLink(address, retry);
      imprint::v1::DeviceIdentity unit;
      grpc::Status asked =
          agent ? (*agent)->GetIdentity(&unit) : grpc::Status(grpc::StatusCode::UNAVAILABLE, "");
      if (!asked.ok()) {
        binder.Refuse(EscapeForDisplay(address, 80), "the unit on this fixture did not answer");
        continue;
      }
      if (prompt)
        out << "scan the label of " << EscapeForDisplay(unit.hardware_id(), 64) << ": "
            << std::flush;
      if (!NextScan(in, &line)) {
        binder.Refuse(EscapeForDisplay(unit.hardware_id(), 64), "no label scanned");
        break;
      }
      std::vector<std::string> f = Fields(line);
      binder.Bind({unit.hardware_id(), f.size() == 1 ? f[0] : line});
    }
  } else {
    std::string unit;
    if (prompt) out << "scan a unit, then its label (Ctrl-D ends)\n" << std::flush;
    while (NextScan(in, &line)) {
      std::vector<std::string> f = Fields(line);
      if (f.size() == 2 && unit.empty()) {
        binder.Bind({f[0], f[1]});
      } else if (f.size() == 1 && unit.empty()) {
        unit = f[0];
      } else if (f.size() == 1) {
        binder.Bind({unit, f[0]});
        unit.clear();
      } else {
        binder.Refuse(IsValidIdentifier(unit) ? unit : "?",
                      "a line of " + std::to_string(f.size()) +
                          " fields: expected UNIT LABEL, or one scan a line");
        unit.clear();
      }
    }
    if (!unit.empty()) {
      binder.Refuse(IsValidIdentifier(unit) ? unit : "?",
                    "the input ended before this unit's label was scanned");
    }
  }
  BindSummary summary = binder.summary;
  if (!binder.bound().empty()) {
    auto dropped = DropLabelSecrets(o.state_dir + "/labels.jsonl", o.order, binder.bound());
    if (!dropped) {
      err << "imprint-station: the bound devices' secrets are still in labels.jsonl: "
          << dropped.error().message() << "\n";
    } else {
      summary.secrets_dropped = *dropped;
    }
  }
  out << "bind: " << summary.bound << " bound, " << summary.already << " already bound, "
      << summary.refused << " refused, " << summary.unanswered << " unanswered\n";
  return summary;
}

}  // namespace imprint::station

#include "factory_station/offline/standing.h"

#include <filesystem>

#include "common/file_util.h"
#include "common/rpc/status.h"
#include "common/utc_time.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::station {
namespace {

// How long an online run waits for the CA's answer before it goes on without it.
constexpr std::chrono::seconds kStandingDeadline{10};

}  // namespace

bool IsMarkedRevoked(const std::string& dir) { return std::filesystem::exists(dir + "/revoked"); }

Status MarkRevoked(const std::string& dir) {
  if (IsMarkedRevoked(dir)) return {};
  return WriteFileAtomic(dir + "/revoked",
                         "revoked by the brand owner; learned " + FormatUtcTime(NowMs()) + "\n",
                         0600);
}

bool IsMarkedRefused(const std::string& dir) { return std::filesystem::exists(dir + "/refused"); }

Status MarkRefused(const std::string& dir, const std::vector<std::string>& violations) {
  std::string text = "refused by the CA at reconcile " + FormatUtcTime(NowMs()) + ":\n";
  for (const std::string& v : violations) text += "  " + v + "\n";
  return WriteFileAtomic(dir + "/refused", text, 0600);
}

Status ClearRefused(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove(dir + "/refused", ec);
  if (ec) return Fail(Code::kInternal, "cannot remove " + dir + "/refused: " + ec.message());
  return {};
}

Result<bool> LearnStanding(const std::string& state_dir, const std::string& order,
                           const std::shared_ptr<grpc::Channel>& channel) {
  auto current = ReadWholeFile(state_dir + "/offline/" + order + ".current");
  if (!current) return false;  // no allowance for this order
  std::string dir = state_dir + "/offline/" + *current;
  if (IsMarkedRevoked(dir)) return true;
  auto stub = imprint::v1::CertificateAuthority::NewStub(channel);
  imprint::v1::ReconcileAllowanceRequest ask;
  ask.set_allowance_id(*current);
  imprint::v1::ReconcileAllowanceResponse answer;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStandingDeadline);
  grpc::Status status = stub->ReconcileAllowance(&context, ask, &answer);
  if (!status.ok()) {
    return std::unexpected(rpc::FromGrpcStatus(status).WithContext("allowance standing"));
  }
  if (!answer.revoked()) return false;
  IMPRINT_RETURN_IF_ERROR(MarkRevoked(dir));
  return true;
}

}  // namespace imprint::station

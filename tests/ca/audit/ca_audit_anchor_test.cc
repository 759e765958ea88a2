// The HSM anchor: the attacks of an attacker with write access to the state directory but no
// PIN (checkpoints deleted and the chain recomputed, the tail truncated, the database rolled
// back), a token whose anchor was rolled back, and the anchor file a third party keeps. Each
// is run through the real `imprint-ca` and must be refused with the sequence number and the
// reason, leaving nothing sealed.

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "ca/audit/commands.h"
#include "ca/audit/guard.h"
#include "tests/ca/audit/audit_tamper.h"
#include "tests/support/build_paths.h"

namespace imprint::testing {
namespace {

// What must hold after a refusal: no new checkpoint, the token's anchor where it was.
struct SealState {
  int64_t checkpoints;
  uint64_t anchor;
};

SealState Seals(SealedCa& s, const std::string& anchor_file) {
  std::string out;
  REQUIRE(s.Cli("audit anchor export --out " + anchor_file, &out) == 0);
  auto line = ReadFile(anchor_file);
  auto at = line.find("\"seq\":");
  REQUIRE(at != std::string::npos);
  return {s.Count("SELECT count(*) FROM audit_checkpoints"), std::stoull(line.substr(at + 6))};
}

// `serve` as an operator starts it; a refused start exits at once.
int Serve(SealedCa& s, std::string* out) {
  return RunCommand(
      "timeout 20 " + CaBinary() + " serve --config " + (s.ca.dir() / "ca.toml").string() + " 2>&1",
      out);
}

// Every way in refuses: verify, a writing admin command, serve (in the binary and in process).
// `start_reason` is what the start check names first when it differs from verify's.
void ExpectRefusedEverywhere(SealedCa& s, const std::string& reason,
                             std::string start_reason = "") {
  if (start_reason.empty()) start_reason = reason;
  std::string anchor_file = (s.ca.dir() / "anchor-check.json").string();
  SealState before = Seals(s, anchor_file);
  std::string out;
  CHECK(s.Cli("audit verify", &out) == 3);
  CHECK(out.find(reason) != std::string::npos);
  CHECK(s.Cli("order create --id PO-X --product p --quota 5 --station line-1", &out) == 3);
  CHECK(out.find(start_reason) != std::string::npos);
  CHECK(Serve(s, &out) == 3);
  CHECK(out.find(start_reason) != std::string::npos);
  auto server = ca::CaServer::Start(s.ca.config(), "");
  REQUIRE_FALSE(server.has_value());
  CHECK(server.error().code() == Code::kDataLoss);
  SealState after = Seals(s, anchor_file);
  CHECK(after.checkpoints == before.checkpoints);  // nothing sealed
  CHECK(after.anchor == before.anchor);
  CHECK(s.Count("SELECT count(*) FROM orders WHERE id = 'PO-X'") == 0);
}

TEST_CASE("deleted checkpoints with edited records and a recomputed chain are never sealed",
          "[audit][anchor]") {
  SealedCa s;
  // Attack 1 of the issue, then attack 3: the next admin command must not seal the forgery.
  s.Tamper(
      "DELETE FROM audit_checkpoints; UPDATE audit_log SET detail = "
      "replace(detail, 'dev-3', 'dev-X')",
      true);
  ExpectRefusedEverywhere(s, "audit record 1: genesis record is not sealed",
                          "the database is older than the HSM's audit anchor");
  CHECK(s.Count("SELECT count(*) FROM audit_checkpoints") == 0);
}

TEST_CASE("a tail truncated together with its checkpoint is refused against the anchor",
          "[audit][anchor]") {
  SealedCa s;
  // Attack 2: the last checkpoint and every record after the one before it, gone.
  s.Tamper(
      "DELETE FROM audit_log WHERE seq > (SELECT seq FROM audit_checkpoints ORDER BY seq "
      "DESC LIMIT 1 OFFSET 1); DELETE FROM audit_checkpoints WHERE seq = (SELECT max(seq) "
      "FROM audit_checkpoints)");
  ExpectRefusedEverywhere(s, "the database is older than the HSM's audit anchor");
}

TEST_CASE("a forged checkpoint that names the anchor as its predecessor is never anchored",
          "[audit][anchor]") {
  SealedCa s;
  // One appended record and a checkpoint over it that chains correctly to the anchored one:
  // all an attacker without the key can compute, except the signature.
  s.Tamper(kAppendRecord, true);
  {
    auto db = s.Open();
    auto newest = ca::NewestCheckpoint(*db).value().value();
    auto head = db->Prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    REQUIRE(head->Step().value());
    audit::Checkpoint forged{static_cast<uint64_t>(head->ColumnInt64(0)),
                             1,
                             head->ColumnBlob(1),
                             newest.seq,
                             audit::CheckpointHash(newest),
                             Bytes(70, 0x30)};
    auto insert = db->Prepare(std::string("INSERT INTO audit_checkpoints (seq, time_ms, hash, ") +
                              "prev_seq, prev_hash, signature) VALUES (?, ?, ?, ?, ?, ?)");
    insert->BindAll(static_cast<int64_t>(forged.seq), forged.time_ms, forged.hash,
                    static_cast<int64_t>(forged.prev_seq), forged.prev_hash, forged.signature);
    REQUIRE(insert->Run().has_value());
  }
  ExpectRefusedEverywhere(s, "checkpoint signature does not verify");
}

TEST_CASE(
    "a database rolled back while the CA is stopped is refused, and the refusal is "
    "audited once the right database is back",
    "[audit][anchor]") {
  SealedCa s;
  s.Save("old");
  s.ca.Restart();
  auto station = StationClient::Enroll(s.ca, "line-2");
  s.ca.Stop();
  s.Save("new");
  s.Restore("old");
  // Attack 4: the "restore from backup" that drops the newest records.
  ExpectRefusedEverywhere(s, "the database is older than the HSM's audit anchor");

  s.Restore("new");
  s.ca.Restart();
  s.ca.Stop();
  auto summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->anchor == summary->records);
  // verify (read-only) keeps nothing; order create, serve and the in-process start do.
  CHECK(s.Count("SELECT count(*) FROM audit_log WHERE event = 'audit.refused' AND detail LIKE "
                "'%older than the HSM%'") == 3);
  CHECK(s.Count("SELECT count(*) FROM audit_log WHERE event = 'audit.refused' AND detail LIKE "
                "'%\"command\":\"serve\"%'") == 2);
}

TEST_CASE(
    "a token whose anchor was rolled back is refused with its own message, and an "
    "operator with the PIN can adopt the verified database",
    "[audit][anchor]") {
  SealedCa s;
  auto tokens = s.ca.dir() / "tokens";
  fs::copy(tokens, s.ca.dir() / "tokens.old", fs::copy_options::recursive);
  std::string out;
  for (const char* name : {"line-2", "line-3", "line-4"}) {
    REQUIRE(s.Cli(std::string("station add ") + name, &out) == 0);  // a checkpoint each
  }
  fs::remove_all(tokens);
  fs::copy(s.ca.dir() / "tokens.old", tokens, fs::copy_options::recursive);
  ExpectRefusedEverywhere(s, "the HSM's audit anchor is older than the database");

  REQUIRE(s.Cli("audit anchor adopt", &out) == 0);
  CHECK(out.find("anchor adopted") != std::string::npos);
  CHECK(s.Cli("audit verify", &out) == 0);
  CHECK(s.Count("SELECT count(*) FROM audit_log WHERE event = 'audit.anchor_adopted'") == 1);
  CHECK(s.Cli("audit anchor adopt", &out) == 0);
  CHECK(out.find("nothing to adopt") != std::string::npos);
  CHECK(s.Count("SELECT count(*) FROM audit_log WHERE event = 'audit.anchor_adopted'") == 1);
}

TEST_CASE("adopting refuses a database that does not verify on its own", "[audit][anchor]") {
  SealedCa s;
  s.Tamper(
      "DELETE FROM audit_log WHERE seq > (SELECT seq FROM audit_checkpoints ORDER BY seq "
      "DESC LIMIT 1 OFFSET 1); DELETE FROM audit_checkpoints WHERE seq = (SELECT max(seq) "
      "FROM audit_checkpoints); UPDATE audit_log SET actor = 'ca' WHERE seq = 3");
  std::string out;
  CHECK(s.Cli("audit anchor adopt", &out) == 3);
  CHECK(out.find("audit record 3: content does not match") != std::string::npos);
}

TEST_CASE("admin commands sealing concurrently with a serving CA keep the anchor in step",
          "[audit][anchor]") {
  SealedCa s(0);
  s.ca.Restart();
  auto station = StationClient::Enroll(s.ca, "line-1b");
  s.ca.CreateOrder("PO-2", 1000, {"line-1b"});
  // The server seals every 5 records from its writer thread while separate processes seal
  // after each admin command: the seal lock orders their anchor writes.
  std::atomic<bool> done{false};
  std::atomic<int> admin_failures{0};
  std::thread admin([&] {
    for (int i = 0; i < 6 && !done; ++i) {
      std::string out;
      if (s.Cli("station add concurrent-" + std::to_string(i), &out) != 0) ++admin_failures;
    }
  });
  std::vector<std::thread> stations;
  for (int t = 0; t < 4; ++t) {
    stations.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto call =
            CallIssue(station.stub(), "PO-2", "c" + std::to_string(t) + "-" + std::to_string(i),
                      DeviceKey::Make().csr_der);
        CHECK(call.status.ok());
      }
    });
  }
  for (auto& t : stations) t.join();
  done = true;
  admin.join();
  CHECK(admin_failures == 0);
  s.ca.Stop();
  auto summary = ca::AuditVerify(s.ca.config());
  REQUIRE(summary.has_value());
  CHECK(summary->anchor == summary->records);
  CHECK(summary->checkpoints > 12);
}

TEST_CASE("an anchor file kept off the machine catches a log rolled back behind it",
          "[audit][anchor]") {
  SealedCa s;
  auto anchor = (s.ca.dir() / "anchor.json").string();
  std::string out;
  REQUIRE(s.Cli("audit anchor export --out " + anchor, &out) == 0);
  uint64_t anchored = std::stoull(ReadFile(anchor).substr(ReadFile(anchor).find("\"seq\":") + 6));
  REQUIRE(s.Cli("station add line-2", &out) == 0);  // the log moves on past the anchor file
  CHECK(s.Cli("audit verify --anchor " + anchor, &out) == 0);

  // A third party with the export, the audit key and the anchor file.
  auto exported = (s.ca.dir() / "audit.jsonl").string();
  REQUIRE(s.Cli("audit export --out " + exported, &out) == 0);
  std::string key = s.ca.config().AuditKeyPemPath();
  std::string offline =
      CaBinary() + " audit verify --key " + key + " --anchor " + anchor + " --export ";
  std::string python =
      "/usr/bin/python3 " + SourceDir() + "/tests/ca/audit/verify_audit_export.py ";
  CHECK(RunCommand(offline + exported, &out) == 0);
  CHECK(RunCommand(python + exported + " " + key + " " + anchor, &out) == 0);

  // The export cut before the anchored record: consistent on its own, caught by the file.
  std::string text = ReadFile(exported), cut;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos) + 1;
    std::string line = text.substr(pos, end - pos);
    if (line.find("\"seq\":" + std::to_string(anchored) + ",") != std::string::npos) break;
    cut += line;
    pos = end;
  }
  auto truncated = (s.ca.dir() / "truncated.jsonl").string();
  WriteFile(truncated, cut);
  CHECK(RunCommand(offline + truncated + " 2>&1", &out) == 3);
  CHECK(out.find("audit record " + std::to_string(anchored) +
                 ": the log does not hold the anchor file's checkpoint") != std::string::npos);
  CHECK(RunCommand(python + truncated + " " + key + " " + anchor, &out) == 1);
  CHECK(out.find("bad seq " + std::to_string(anchored)) != std::string::npos);

  // An anchor file that was edited does not verify.
  std::string forged = ReadFile(anchor);
  forged.replace(forged.find("\"seq\":") + 6, std::to_string(anchored).size(),
                 std::to_string(anchored - 1));
  WriteFile(anchor, forged);
  CHECK(RunCommand(offline + exported + " 2>&1", &out) == 3);
  CHECK(out.find("does not verify with the audit key") != std::string::npos);
}

}  // namespace
}  // namespace imprint::testing

// Printing labels (factory_station/labels/printer.h, queue.h, records.h): the sinks, the label
// records a queue prints from, their secrets dropped while a line appends, and the journal's
// exactly-once states.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/label_code.h"
#include "common/secret.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "factory_station/journal.h"
#include "factory_station/labels/printer.h"
#include "factory_station/labels/queue.h"
#include "factory_station/labels/records.h"
#include "tests/common/x509_test_util.h"
#include "tests/support/build_paths.h"
#include "tests/support/temp_dir.h"

namespace imprint::station {
namespace {

using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A listening socket that takes one connection and keeps what it reads.
class OnePrinter {
 public:
  OnePrinter() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      char buf[4096];
      for (ssize_t n; (n = ::read(c, buf, sizeof buf)) > 0;)
        got_.append(buf, static_cast<size_t>(n));
      ::close(c);
    });
  }
  ~OnePrinter() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string Received() {
    thread_.join();
    return got_;
  }

 private:
  int fd_, port_;
  std::thread thread_;
  std::string got_;
};

// A port nothing listens on.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Device n's certificate (self-signed, CN=dev-n), the same each time it is asked for.
const Bytes& Cert(int n) {
  static std::map<int, Bytes> made;
  if (!made.contains(n)) {
    static x509::PkeyPtr key = testing::TestKey("P-256");
    auto signer = x509::EvpSigner::Create(x509::ShareKey(key.get())).value();
    auto cert = testing::Issue(testing::RootProfile(), "dev-" + std::to_string(n), key.get(),
                               nullptr, *signer);
    made[n] = x509::ToDer(i2d_X509, cert.get()).value();
  }
  return made[n];
}

// A journal with `count` devices provisioned on PO-1, their labels recorded, and their label
// records appended to labels.jsonl.
void Provisioned(Journal& journal, LabelWriter& labels, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    std::string device = "dev-" + std::to_string(i);
    REQUIRE(journal.Begin("PO-1", device, "127.0.0.1:1"));
    REQUIRE(journal.RecordCertificate("PO-1", device, "0" + std::to_string(i), Cert(i)));
    REQUIRE(labels.Append("PO-1", device, "0" + std::to_string(i),
                          Secret::CopyOf("pw" + std::to_string(i))));
    REQUIRE(journal.LabelFor("PO-1", device, Cert(i), true));
    REQUIRE(journal.Finish("PO-1", device, "provisioned", "", 5));
  }
}

LabelTemplate PasswordTemplate() {
  return LabelTemplate::Load(testing::SourceDir() + "/templates/labels/password.zpl").value();
}

}  // namespace

TEST_CASE("printers: addresses, the file sink and a raw TCP printer") {
  TempDir dir;
  for (const char* bad : {"lpr://x", "tcp://", "tcp://host:0", "tcp://host:70000", "tcp://host:9x",
                          "file:/no/such/dir", "file:"}) {
    auto p = OpenPrinter(bad);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == Code::kInvalidArgument);
  }
  auto file = OpenPrinter("file:" + dir.path().string()).value();
  CHECK(file->Delivered("PO-1.dev-1", 1) == false);
  REQUIRE(file->Print("PO-1.dev-1", 1, Secret::CopyOf("^XA^XZ")));
  REQUIRE(file->Print("PO-1.dev-1", 2, Secret::CopyOf("^XA^FDagain^FS^XZ")));
  CHECK(file->Delivered("PO-1.dev-1", 1) == true);
  CHECK(Slurp(dir / "PO-1.dev-1.zpl") == "^XA^XZ");
  CHECK(Slurp(dir / "PO-1.dev-1.print-2.zpl") == "^XA^FDagain^FS^XZ");
  struct stat st {};
  REQUIRE(::stat((dir / "PO-1.dev-1.zpl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  OnePrinter printer;
  auto tcp = OpenPrinter("tcp://127.0.0.1:" + std::to_string(printer.port())).value();
  std::string big(100000, 'Z');
  REQUIRE(tcp->Print("PO-1.dev-1", 1, Secret::CopyOf("^XA" + big + "^XZ")));
  CHECK(printer.Received() == "^XA" + big + "^XZ");
  CHECK_FALSE(tcp->Delivered("PO-1.dev-1", 1).has_value());
  auto down = OpenPrinter("tcp://127.0.0.1:" + std::to_string(ClosedPort())).value();
  auto refused = down->Print("PO-1.dev-1", 1, Secret::CopyOf("^XA^XZ"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Code::kUnavailable);
  CHECK(refused.error().message().find("connect: Connection refused") != std::string::npos);
}

TEST_CASE("label records: read as the file grows, and secrets dropped while a line appends") {
  TempDir dir;
  std::string path = (dir / "labels.jsonl").string();
  auto writer = LabelWriter::Open(path).value();
  LabelRecords records(path, "PO-1");
  REQUIRE(writer->Append("PO-1", "dev-1", "01", Secret::CopyOf("first")));
  REQUIRE(writer->Append("PO-2", "dev-2", "02", Secret::CopyOf("other order")));
  CHECK(records.Find("dev-1").value()->password.Reveal() == "first");
  CHECK(records.Find("dev-2").value() == nullptr);
  REQUIRE(writer->Append("PO-1", "dev-1", "03", Secret::CopyOf("again")));  // the last one wins
  records.Forget("dev-1");
  CHECK(records.Find("dev-1").value()->password.Reveal() == "again");

  // Another process (label bind) rewrites the file while this one appends 300 lines.
  std::thread line([&] {
    for (int i = 0; i < 300; ++i) {
      REQUIRE(writer->Append("PO-1", "dev-n" + std::to_string(i), "0a", Secret::CopyOf("pw")));
    }
  });
  int dropped = 0;
  for (int round = 0; round < 20; ++round)
    dropped += DropLabelSecrets(path, "PO-1", {"dev-1"}).value();
  line.join();
  CHECK(dropped == 2);  // both lines of dev-1, once
  std::string text = Slurp(path);
  int lines = 0, with_password = 0;
  for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; ++at) ++lines;
  for (size_t at = 0; (at = text.find("default_password", at)) != std::string::npos; ++at) {
    ++with_password;
  }
  CHECK(lines == 303);
  CHECK(with_password == 301);  // dev-2 of PO-2 and the 300 new devices keep theirs
  CHECK(text.find("first") == std::string::npos);
  CHECK(text.find("again") == std::string::npos);
  // A reader sees the rewritten file anew.
  LabelRecords fresh(path, "PO-1");
  CHECK(fresh.Find("dev-1").value()->secrets_dropped);
  CHECK(fresh.Find("dev-1").value()->password.empty());
  CHECK(records.Find("dev-n299").value()->password.Reveal() == "pw");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

namespace {

// A label queue over the journal to `printer` that starts (taking what waits), then finishes
// within `wait`.
LabelSummary DrainQueue(Journal& journal, const TempDir& dir, const std::string& printer,
                        std::chrono::milliseconds wait) {
  LabelQueue queue(journal, dir.path().string(), "PO-1", PasswordTemplate(),
                   OpenPrinter(printer).value());
  REQUIRE(queue.Start());
  return queue.Finish(wait);
}

}  // namespace

TEST_CASE(
    "label queue: each provisioned device once, and a printer down holds labels, not the line") {
  TempDir dir;
  auto journal = Journal::Open((dir / "journal.db").string()).value();
  auto labels = LabelWriter::Open((dir / "labels.jsonl").string()).value();
  Provisioned(*journal, *labels, 1, 3);
  // Issued but never provisioned: its label must not print.
  REQUIRE(journal->Begin("PO-1", "dev-failed", "x"));
  REQUIRE(journal->RecordCertificate("PO-1", "dev-failed", "09", Cert(9)));
  REQUIRE(journal->LabelFor("PO-1", "dev-failed", Cert(9), true));
  REQUIRE(journal->Finish("PO-1", "dev-failed", "failed", "no", 5));
  // Provisioned by a run without a printer: its label is made elsewhere, never printed here by
  // itself.
  REQUIRE(journal->Begin("PO-1", "dev-ext", "x"));
  REQUIRE(journal->RecordCertificate("PO-1", "dev-ext", "0b", Cert(11)));
  REQUIRE(labels->Append("PO-1", "dev-ext", "0b", Secret::CopyOf("pw-ext")));
  REQUIRE(journal->LabelFor("PO-1", "dev-ext", Cert(11), false));
  REQUIRE(journal->Finish("PO-1", "dev-ext", "provisioned", "", 5));
  std::filesystem::create_directory(dir / "out");
  std::string out = "file:" + (dir / "out").string();
  {
    LabelQueue queue(*journal, dir.path().string(), "PO-1", PasswordTemplate(),
                     OpenPrinter(out).value());
    REQUIRE(queue.Start());  // the three waiting from "earlier runs"
    queue.Committed("dev-failed");
    queue.Committed("dev-ext");
    queue.Committed("dev-1");  // already queued: printed once all the same
    LabelSummary s = queue.Finish(std::chrono::seconds(5));
    CHECK(s.printed == 3);
    CHECK(s.waiting == 0);
  }
  std::string zpl = Slurp(dir / "out" / "PO-1.dev-2.zpl");
  CHECK(zpl.find("Password pw2") != std::string::npos);
  CHECK(zpl.find(LabelCode(Cert(2))) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "PO-1.dev-failed.zpl"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "PO-1.dev-ext.zpl"));
  CHECK(journal->Label("PO-1", "dev-ext").value()->state == "external");
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "PO-1.dev-1.print-2.zpl"));
  CHECK(journal->Label("PO-1", "dev-1").value()->state == "printed");
  CHECK(journal->Label("PO-1", "dev-1").value()->prints == 1);

  // Down: the labels wait, counted, with the printer's error.
  Provisioned(*journal, *labels, 4, 2);
  std::string down = "tcp://127.0.0.1:" + std::to_string(ClosedPort());
  {
    LabelSummary s = DrainQueue(*journal, dir, down, std::chrono::milliseconds(0));
    CHECK(s.printed == 0);
    CHECK(s.waiting == 2);
    CHECK(s.last_error.find("Connection refused") != std::string::npos);
  }
  CHECK(journal->Label("PO-1", "dev-4").value()->state == "waiting");
  CHECK(journal->Label("PO-1", "dev-4").value()->prints == 0);

  // Cut while sending: a network printer cannot say, so the label stays in doubt; a file sink
  // settles it either way.
  REQUIRE(journal->LabelState("PO-1", "dev-4", "sending", 1));
  REQUIRE(journal->LabelState("PO-1", "dev-5", "sending", 1));
  {
    LabelSummary s = DrainQueue(*journal, dir, down, std::chrono::milliseconds(0));
    CHECK(s.in_doubt == 2);
    CHECK(s.waiting == 0);
  }
  REQUIRE(OpenPrinter(out).value()->Print("PO-1.dev-4", 1, Secret::CopyOf("^XA^XZ")));
  {
    LabelSummary s = DrainQueue(*journal, dir, out, std::chrono::seconds(5));
    CHECK(s.in_doubt == 0);
    CHECK(s.printed == 1);  // dev-5: not written before the cut, so sent now
  }
  CHECK(journal->Label("PO-1", "dev-4").value()->state == "printed");
  CHECK(Slurp(dir / "out" / "PO-1.dev-4.zpl") == "^XA^XZ");  // not sent again
  CHECK(journal->Label("PO-1", "dev-5").value()->prints == 1);

  // A new certificate (the device reworked) gives a new code: the label starts anew.
  REQUIRE(journal->LabelFor("PO-1", "dev-1", Cert(1), true));
  CHECK(journal->Label("PO-1", "dev-1").value()->state == "printed");
  REQUIRE(journal->LabelFor("PO-1", "dev-1", Cert(77), true));
  CHECK(journal->Label("PO-1", "dev-1").value()->state == "waiting");
  CHECK(journal->LabelOwner("PO-1", LabelCode(Cert(77))).value() == "dev-1");
  CHECK_FALSE(journal->LabelOwner("PO-1", LabelCode(Cert(1))).value().has_value());
}

}  // namespace imprint::station

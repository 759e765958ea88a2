#include "factory_station/labels/printer.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_util.h"

namespace imprint::station {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

class TcpPrinter : public LabelPrinter {
 public:
  TcpPrinter(std::string uri, std::string host, std::string port, PrinterTimeouts timeouts)
      : uri_(std::move(uri)), host_(std::move(host)), port_(std::move(port)), t_(timeouts) {}

  Status Print(const std::string&, int, const Secret& zpl) override {
    auto unavailable = [&](const std::string& why) {
      return Fail(Code::kUnavailable, "printer " + uri_ + ": " + why);
    };
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host_.c_str(), port_.c_str(), &hints, &found); rc != 0) {
      return unavailable(std::string("cannot resolve the host: ") + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    std::string why = "no address";
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (fd.get() < 0) continue;
      auto deadline = Clock::now() + t_.connect;
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
          why = std::string("connect: ") + std::strerror(errno);
          continue;
        }
        int error = 0;
        socklen_t len = sizeof error;
        if (!WaitFor(fd.get(), POLLOUT, deadline)) {
          why = "no answer within " + std::to_string(t_.connect.count()) + " ms";
          continue;
        }
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
          why = std::string("connect: ") + std::strerror(error);
          continue;
        }
      }
      return Send(fd.get(), zpl.Reveal());
    }
    return unavailable(why);
  }

  std::optional<bool> Delivered(const std::string&, int) const override { return std::nullopt; }
  const std::string& uri() const override { return uri_; }

 private:
  Status Send(int fd, std::string_view data) {
    auto deadline = Clock::now() + t_.io;
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd, POLLOUT, deadline)) {
        continue;
      }
      return Fail(Code::kUnavailable, "printer " + uri_ + " stopped taking the label: " +
                                          (n < 0 ? std::strerror(errno) : "timeout"));
    }
    ::shutdown(fd, SHUT_WR);
    // A raw printer answers nothing: its closing (it read to our end) is the best word we get.
    // Silence until the timeout still counts as sent; the bytes left this machine.
    char sink[256];
    while (WaitFor(fd, POLLIN, deadline)) {
      ssize_t n = ::recv(fd, sink, sizeof sink, 0);
      if (n == 0) break;
      if (n < 0 && errno != EINTR && errno != EAGAIN) break;
    }
    return {};
  }

  std::string uri_, host_, port_;
  PrinterTimeouts t_;
};

class FilePrinter : public LabelPrinter {
 public:
  FilePrinter(std::string uri, std::string dir) : uri_(std::move(uri)), dir_(std::move(dir)) {}

  Status Print(const std::string& name, int print, const Secret& zpl) override {
    return WriteFileAtomic(Path(name, print), zpl.Reveal(), 0600);
  }
  std::optional<bool> Delivered(const std::string& name, int print) const override {
    struct stat st {};
    return ::stat(Path(name, print).c_str(), &st) == 0;
  }
  const std::string& uri() const override { return uri_; }

 private:
  std::string Path(const std::string& name, int print) const {
    return dir_ + "/" + name + (print > 1 ? ".print-" + std::to_string(print) : "") + ".zpl";
  }
  std::string uri_, dir_;
};

}  // namespace

Result<std::unique_ptr<LabelPrinter>> OpenPrinter(const std::string& uri,
                                                  PrinterTimeouts timeouts) {
  if (uri.starts_with("file:")) {
    std::string dir = uri.substr(5);
    struct stat st {};
    if (dir.empty() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Fail(Code::kInvalidArgument, "--printer " + uri + ": no such directory");
    }
    return std::unique_ptr<LabelPrinter>(new FilePrinter(uri, dir));
  }
  if (uri.starts_with("tcp://")) {
    std::string rest = uri.substr(6);
    size_t colon = rest.rfind(':');
    std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
    std::string port = colon == std::string::npos ? "9100" : rest.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    bool port_ok = !port.empty() && port.size() <= 5 &&
                   port.find_first_not_of("0123456789") == std::string::npos &&
                   std::stoi(port) > 0 && std::stoi(port) < 65536;
    if (host.empty() || !port_ok) {
      return Fail(Code::kInvalidArgument, "--printer " + uri + ": expected tcp://HOST[:PORT]");
    }
    return std::unique_ptr<LabelPrinter>(new TcpPrinter(uri, host, port, timeouts));
  }
  return Fail(Code::kInvalidArgument,
              "--printer takes tcp://HOST[:PORT] or file:DIR, not \"" + uri.substr(0, 80) + "\"");
}

}  // namespace imprint::station

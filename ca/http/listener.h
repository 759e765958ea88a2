#pragma once
// Binding an httplib server (plain or TLS) to HOST:PORT and serving it on its own thread: what
// the status listener and the console share.

#include <string>
#include <thread>

#include "common/error.h"

namespace httplib {
class Server;
}

namespace imprint::ca {

// Binds `server` to `listen` (HOST:PORT; port 0 picks a free one), starts `thread` serving it,
// and returns once it serves: the HOST:PORT actually bound. `what` names the listener in
// errors ("status.http_listen"). INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it
// cannot be bound.
Result<std::string> BindAndServe(httplib::Server& server, const std::string& listen,
                                 std::thread& thread, const std::string& what);

// Refuses (416) a Range header that asks for more than one byte range: httplib builds a
// multipart answer of every part in memory, so "bytes=0-,0-,..." in a few KB asked for the
// whole CRL thousands of times (issue 26 finding 5). One range (a resumed download) is served.
void AllowOneRangeAtMost(httplib::Server& server);

}  // namespace imprint::ca

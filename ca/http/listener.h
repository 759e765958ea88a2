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

}  // namespace imprint::ca

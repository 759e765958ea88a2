#pragma once
// Identifiers (station, order and device ids) and text that came from outside, made safe to
// show. The same rules hold at the CA and at the station: a station refuses a device whose id
// the CA would refuse, before the id reaches its journal, labels or terminal.

#include <string>
#include <string_view>

namespace imprint {

// 1-64 characters of [A-Za-z0-9._:-], and neither "." nor ".." (ids name files and
// directories on stations and devices).
bool IsValidIdentifier(std::string_view id);

// `text` for a terminal, a log line or an audit detail: printable ASCII is kept, a backslash
// and every other byte (control characters, escape sequences, newlines, non-ASCII) become
// \xNN, so nothing printed can move the cursor, fake a line or change the terminal. At most
// `max_bytes` of the input are shown, then "...".
std::string EscapeForDisplay(std::string_view text, size_t max_bytes = 256);

}  // namespace imprint

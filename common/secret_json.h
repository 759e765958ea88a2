#pragma once
// JSON text that carries secrets (a label line with a default password, a device's commit
// record), built without leaving copies behind. nlohmann::json would hold each secret in its
// own string and grow the dump buffer by reallocation, freeing partial copies unwiped; here
// the non-secret fields are dumped as usual and the secrets are written into one buffer sized
// up front, which is returned as a Secret.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/secret.h"

namespace imprint {

using SecretMembers = std::vector<std::pair<std::string, const Secret*>>;

// `fields` (a JSON object without secrets) with `secrets` added as string members: at the top
// level when `nest_under` is empty, else inside a member object of that name. Secret values
// must be printable ASCII (INVALID_ARGUMENT otherwise, naming the member, never the value).
// The text ends with a newline.
Result<Secret> JsonWithSecrets(const nlohmann::json& fields, const std::string& nest_under,
                               const SecretMembers& secrets);

}  // namespace imprint

// imprint-agent-hostile MODE [imprint-agent options]: imprint-agent whose devices misbehave as
// MODE says (tests/support/hostile_agent.h). Built for tests only; never installed.
#include <iostream>
#include <string>
#include <vector>

#include "device_agent/cli.h"
#include "tests/support/hostile_agent.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: imprint-agent-hostile MODE [imprint-agent options]\n";
    return 2;
  }
  std::string mode = argv[1];
  if (!imprint::testing::IsHostileAgentMode(mode)) {
    std::cerr << "imprint-agent-hostile: unknown mode " << mode << "\n";
    return 2;
  }
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return imprint::agent::RunCli(static_cast<int>(args.size()), args.data(),
                                [mode](imprint::agent::Device& device) {
                                  return imprint::testing::MakeHostileAgentService(mode, device);
                                });
}

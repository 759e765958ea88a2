// Label templates (factory_station/labels/template.h): the checks made at load, and what a label
// may carry when it is made.
#include "factory_station/labels/template.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "tests/support/build_paths.h"

namespace imprint::station {
namespace {

Result<LabelTemplate> Parse(const std::string& text) { return LabelTemplate::Parse(text, "t.zpl"); }

std::string Refusal(const std::string& text) {
  auto t = Parse(text);
  REQUIRE_FALSE(t);
  CHECK(t.error().code() == Code::kInvalidArgument);
  return t.error().message();
}

constexpr const char* kCode = "^FO10,300^BY2^BCN,80,Y,N,N^FD{{label_code}}^FS\n";

LabelTemplate::Values From(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string_view> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

}  // namespace

TEST_CASE("label templates: the shipped ones load and use what their labels need") {
  auto password = LabelTemplate::Load(testing::SourceDir() + "/templates/labels/password.zpl");
  REQUIRE(password);
  CHECK(password->uses("password"));
  CHECK(password->uses("label_code"));
  auto matter = LabelTemplate::Load(testing::SourceDir() + "/templates/labels/matter.zpl");
  REQUIRE(matter);
  CHECK(matter->uses("matter_qr"));
  CHECK(matter->uses("matter_manual_code"));
  CHECK_FALSE(matter->uses("password"));
}

TEST_CASE("label templates: refused at load, naming the line and the rule") {
  CHECK(Refusal(std::string("^XA\n^FO1,1^FD{{colour}}^FS\n") + kCode + "^XZ") ==
        "label template t.zpl:2: unknown field {{colour}} (known: device_id, order, serial, "
        "fingerprint, label_code, password, matter_qr, matter_manual_code, "
        "matter_discriminator, matter_vendor_id, matter_product_id)");
  // A secret in any linear code; ^BY (defaults) does not make a field a barcode.
  for (const char* linear : {"^BCN,80", "^B3N,N,80", "^BEN,80", "^B2N,80", "^BUN,80"}) {
    std::string text = std::string("^XA\n^FO1,1") + linear + "^FD{{password}}^FS\n" + kCode + "^XZ";
    CHECK(Refusal(text).find("{{password}} is secret and may not stand in a 1D barcode") !=
          std::string::npos);
  }
  CHECK(Refusal(std::string("^XA\n^FO1,1^BCN,80^FDpw {{matter_manual_code}}^FS\n") + kCode + "^XZ")
            .find("t.zpl:2: {{matter_manual_code}} is secret") != std::string::npos);
  CHECK(Refusal("^XA\n^FO1,1^A0N,30,30^FD{{label_code}}^FS\n^XZ")
            .find("{{label_code}} must stand in a barcode") != std::string::npos);
  CHECK(Refusal(std::string("^XA\n^FO1,1^FB400,2^FX {{device_id}}^FS\n") + kCode + "^XZ")
            .find("stands outside a field's data") != std::string::npos);
  CHECK(Refusal(std::string("^XA\n^FO1,1^FH^FD{{device_id}}^FS\n") + kCode + "^XZ")
            .find("may not use ^FH") != std::string::npos);
  CHECK(Refusal(std::string("^XA\n^FO1,1^FD{{device_id^FS\n") + kCode + "^XZ")
            .find("{{ without }}") != std::string::npos);
  CHECK(Refusal(std::string("^XA") + kCode + "^XZ^XA^XZ").find("one label") != std::string::npos);
  CHECK(Refusal(std::string("^FO1,1^FDx^FS") + kCode).find("one label") != std::string::npos);
  CHECK(Refusal("^XA" + std::string(70000, ' ') + kCode + "^XZ").find("64 KiB") !=
        std::string::npos);
  // A secret in a 2D code or as text is what labels are for.
  CHECK(Parse(std::string("^XA^FO1,1^BQN,2,4^FDQA,{{password}}^FS^FO1,1^FD{{password}}^FS") +
              kCode + "^XZ"));
}

TEST_CASE("label templates: values fill the fields as they are, and ZPL commands refuse a label") {
  auto t = Parse(
      "^XA^FO1,1^A0N,20,20^FDID {{device_id}} pw {{password}}^FS"
      "^FO1,50^BY2^BCN,60,Y,N,N^FD{{label_code}}^FS^XZ");
  REQUIRE(t);
  auto label = t->Render(From(
      {{"device_id", "cam-1"}, {"password", "Kp7x"}, {"label_code", "IMP1-0123456789ABCDEF"}}));
  REQUIRE(label);
  CHECK(label->Reveal() ==
        "^XA^FO1,1^A0N,20,20^FDID cam-1 pw Kp7x^FS^FO1,50^BY2^BCN,60,Y,N,N^FDIMP1-0123456789ABCDEF"
        "^FS^XZ");
  for (const std::string& bad :
       std::vector<std::string>{"a^XZ", "a~JR", "a\nb", "caf\xc3\xa9", std::string("a\0b", 3)}) {
    auto refused =
        t->Render(From({{"device_id", bad}, {"password", "x"}, {"label_code", "IMP1-0"}}));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message() ==
          "the device's device_id holds a character a ZPL label cannot carry");
  }
  auto missing = t->Render(From({{"device_id", "cam-1"}, {"label_code", "IMP1-0"}}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Code::kFailedPrecondition);
  CHECK(missing.error().message() == "this device has no password for the label");
}

}  // namespace imprint::station

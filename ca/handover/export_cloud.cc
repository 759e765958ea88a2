// Registration files for AWS IoT (bulk registration and just-in-time provisioning) and
// Azure IoT Hub DPS (an X.509 enrollment group and individual enrollments), and the CSV for
// MES systems. Formats and their sources: docs/handover.md.

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "ca/handover/export_writers.h"
#include "common/utc_time.h"
#include "common/x509/encoding.h"

namespace imprint::ca {
namespace {

constexpr size_t kAzureBulkMax = 10;  // DPS bulk operation: at most 10 enrollments

// Only verified devices go to a cloud: a failed or revoked certificate must not be ACTIVE.
bool ForCloud(ExportContext& ctx, const ExportDevice& d) {
  if (d.status == DeviceState::kVerified) return true;
  ++ctx.summary.skipped[std::string(Name(d.status))];
  return false;
}

Status WriteJson(ExportDir& dir, const std::string& name, const nlohmann::json& json) {
  IMPRINT_ASSIGN_OR_RETURN(ExportFile * file, dir.Create(name));
  IMPRINT_RETURN_IF_ERROR(file->Write(json.dump(2) + "\n"));
  return file->Close();
}

// A PEM block as a JSON string. PEM is base64, dashes, spaces and newlines, so only the
// newlines need escaping; done by hand because the bulk file holds a million of them and a
// general JSON serializer spends most of the export checking each character.
std::string JsonPem(const std::string& pem) {
  std::string out = "\"";
  out.reserve(pem.size() + pem.size() / 32 + 2);
  for (char c : pem) {
    if (c == '\n') {
      out += "\\n";
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' ||
               c == '-' || c == ' ') {
      out += c;
    } else {
      return nlohmann::json(pem).dump();  // not PEM as imprint writes it: the general way
    }
  }
  return out + "\"";
}

nlohmann::json StringParameter() { return {{"Type", "String"}}; }

// Bulk registration (StartThingRegistrationTask): exactly the parameters each NDJSON line has.
nlohmann::json AwsBulkTemplate(const OrderStatus& order) {
  return {
      {"Parameters",
       {{"ThingName", StringParameter()},
        {"SerialNumber", StringParameter()},
        {"CertificatePem", StringParameter()},
        {"CACertificatePem", StringParameter()}}},
      {"Resources",
       {{"thing",
         {{"Type", "AWS::IoT::Thing"},
          {"Properties",
           {{"ThingName", {{"Ref", "ThingName"}}},
            {"AttributePayload",
             {{"serialNumber", {{"Ref", "SerialNumber"}}},
              {"order", order.id},
              {"product", order.product}}}}}}},
        {"certificate",
         {{"Type", "AWS::IoT::Certificate"},
          {"Properties",
           {{"CertificatePem", {{"Ref", "CertificatePem"}}},
            {"CACertificatePem", {{"Ref", "CACertificatePem"}}},
            {"Status", "ACTIVE"}}}}}}},
  };
}

// Just-in-time provisioning, attached to the registered issuing CA: its parameters come from
// the device certificate's subject, whose CN and serialNumber imprint fills with the device id.
nlohmann::json AwsJitpTemplate() {
  const char* cn = "AWS::IoT::Certificate::CommonName";
  const char* sn = "AWS::IoT::Certificate::SerialNumber";
  const char* id = "AWS::IoT::Certificate::Id";
  return {
      {"Parameters", {{cn, StringParameter()}, {sn, StringParameter()}, {id, StringParameter()}}},
      {"Resources",
       {{"thing",
         {{"Type", "AWS::IoT::Thing"},
          {"Properties",
           {{"ThingName", {{"Ref", cn}}},
            {"AttributePayload", {{"serialNumber", {{"Ref", sn}}}}}}}}},
        {"certificate",
         {{"Type", "AWS::IoT::Certificate"},
          {"Properties", {{"CertificateId", {{"Ref", id}}}, {"Status", "ACTIVE"}}}}}}},
  };
}

// DPS ids allow alphanumerics and - . _ : and are case-insensitive; imprint's order ids are a
// subset, lower-cased here.
std::string GroupId(const std::string& order_id) {
  std::string id = "imprint-" + order_id;
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return id;
}

std::string Numbered(const std::string& stem, size_t n, size_t width) {
  std::string digits = std::to_string(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return stem + digits + ".json";
}

}  // namespace

Status WriteAwsIot(ExportContext& ctx) {
  IMPRINT_ASSIGN_OR_RETURN(std::string ca_pem, x509::CertificateToPem(ctx.certs.issuing.get()));
  std::string ca_json = JsonPem(ca_pem);
  IMPRINT_ASSIGN_OR_RETURN(ExportFile * bulk, ctx.dir.Create("aws-bulk.ndjson"));
  IMPRINT_RETURN_IF_ERROR(ctx.Devices().ForEach([&](const ExportDevice& d) -> Status {
    if (!ForCloud(ctx, d)) return {};
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, DevicePem(d));
    std::string id = nlohmann::json(d.device_id).dump();
    ++ctx.summary.written;
    return bulk->Write("{\"ThingName\":" + id + ",\"SerialNumber\":" + id + ",\"CertificatePem\":" +
                       JsonPem(pem) + ",\"CACertificatePem\":" + ca_json + "}\n");
  }));
  IMPRINT_RETURN_IF_ERROR(WriteJson(ctx.dir, "aws-template.json", AwsBulkTemplate(ctx.order)));
  IMPRINT_RETURN_IF_ERROR(WriteJson(ctx.dir, "aws-jitp-template.json", AwsJitpTemplate()));
  IMPRINT_ASSIGN_OR_RETURN(ExportFile * ca, ctx.dir.Create("issuing-ca.pem"));
  return ca->Write(ca_pem);
}

Status WriteAzureDps(ExportContext& ctx) {
  IMPRINT_ASSIGN_OR_RETURN(std::string ca_pem, x509::CertificateToPem(ctx.certs.issuing.get()));
  nlohmann::json group = {
      {"enrollmentGroupId", GroupId(ctx.order.id)},
      {"attestation",
       {{"type", "x509"},
        {"x509", {{"signingCertificates", {{"primary", {{"certificate", ca_pem}}}}}}}}},
      {"provisioningStatus", "enabled"},
  };
  IMPRINT_RETURN_IF_ERROR(WriteJson(ctx.dir, "azure-enrollment-group.json", group));
  // File numbers are as wide as the largest one needs (at least three digits), so the files
  // sort in order.
  size_t width = std::max<size_t>(3, std::to_string(ctx.order.issued / kAzureBulkMax + 1).size());
  nlohmann::json body = nlohmann::json::array();
  size_t files = 0;
  auto flush = [&]() -> Status {
    if (body.empty()) return {};
    nlohmann::json bulk = {{"enrollments", std::move(body)}, {"mode", "create"}};
    body = nlohmann::json::array();
    return WriteJson(ctx.dir, Numbered("azure-enrollments-", ++files, width), bulk);
  };
  IMPRINT_RETURN_IF_ERROR(ctx.Devices().ForEach([&](const ExportDevice& d) -> Status {
    if (!ForCloud(ctx, d)) return {};
    IMPRINT_ASSIGN_OR_RETURN(std::string pem, DevicePem(d));
    body.push_back({
        {"registrationId", d.device_id},
        {"deviceId", d.device_id},
        {"attestation",
         {{"type", "x509"},
          {"x509", {{"clientCertificates", {{"primary", {{"certificate", std::move(pem)}}}}}}}}},
        {"provisioningStatus", "enabled"},
    });
    ++ctx.summary.written;
    return body.size() == kAzureBulkMax ? flush() : Status{};
  }));
  return flush();
}

Status WriteCsv(ExportContext& ctx) {
  IMPRINT_ASSIGN_OR_RETURN(ExportFile * csv, ctx.dir.Create("devices.csv"));
  IMPRINT_RETURN_IF_ERROR(
      csv->Write("device_id,serial,sha256_fingerprint,status,station,time\r\n"));
  return ctx.Devices().ForEach([&](const ExportDevice& d) -> Status {
    ++ctx.summary.written;
    return csv->Write(CsvField(d.device_id) + "," + CsvField(d.serial_hex) + "," +
                      HexEncode(x509::Sha256(d.certificate_der)) + "," +
                      CsvField(std::string(Name(d.status))) + "," + CsvField(d.station) + "," +
                      FormatUtcTimeMs(d.issued_ms) + "\r\n");
  });
}

}  // namespace imprint::ca

#include "common/pkcs11/data_object.h"

#include "common/pkcs11/objects.h"

namespace imprint::p11 {

Result<std::vector<DataObject>> ReadDataObjects(SessionPool::Lease& lease, const std::string& label,
                                                size_t max) {
  CK_OBJECT_CLASS object_class = CKO_DATA;
  std::vector<CK_ATTRIBUTE> query{{CKA_CLASS, &object_class, sizeof(object_class)},
                                  {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_FUNCTION_LIST* api = lease.api();
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_FindObjectsInit", api->C_FindObjectsInit(lease.handle(), query.data(), query.size())));
  std::vector<CK_OBJECT_HANDLE> handles(max + 1);
  CK_ULONG count = 0;
  CK_RV rv = api->C_FindObjects(lease.handle(), handles.data(), handles.size(), &count);
  CK_RV final_rv = api->C_FindObjectsFinal(lease.handle());
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_FindObjects", rv));
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_FindObjectsFinal", final_rv));
  if (count > max) {
    return Fail(Code::kFailedPrecondition,
                "more than " + std::to_string(max) + " token data objects labelled " + label);
  }
  std::vector<DataObject> out;
  for (CK_ULONG i = 0; i < count; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes value, GetAttribute(lease, handles[i], CKA_VALUE));
    out.push_back({handles[i], std::move(value)});
  }
  return out;
}

Result<CK_OBJECT_HANDLE> CreateDataObject(SessionPool::Lease& lease, const std::string& label,
                                          const std::string& application, ByteView value) {
  CK_OBJECT_CLASS object_class = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  std::vector<CK_ATTRIBUTE> attrs{
      {CKA_CLASS, &object_class, sizeof(object_class)},
      {CKA_TOKEN, &yes, sizeof(yes)},
      {CKA_PRIVATE, &yes, sizeof(yes)},
      {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
      {CKA_APPLICATION, const_cast<char*>(application.data()), application.size()},
      {CKA_VALUE, const_cast<uint8_t*>(value.data()), static_cast<CK_ULONG>(value.size())},
  };
  CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_CreateObject",
      lease.api()->C_CreateObject(lease.handle(), attrs.data(), attrs.size(), &created)));
  return created;
}

Status DestroyObject(SessionPool::Lease& lease, CK_OBJECT_HANDLE handle) {
  return lease.Check("C_DestroyObject", lease.api()->C_DestroyObject(lease.handle(), handle));
}

}  // namespace imprint::p11

#pragma once
// Token data objects (CKO_DATA, PKCS#11 3.0 4.5): small application records kept in the token
// beside the keys. imprint's are CKA_TOKEN and CKA_PRIVATE, so only a logged-in user (someone
// with the PIN) can read, create or destroy them, whoever can write the state directory.
//
// Values are never changed in place: tokens may make CKA_VALUE read-only (SoftHSMv2 does), so
// a record is replaced by creating the new object first and destroying the old one after. A
// crash in between leaves both, never neither; readers choose among them.

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/pkcs11/session_pool.h"

namespace imprint::p11 {

struct DataObject {
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  Bytes value;
};

// Every private data object labelled `label`, at most `max` of them (FAILED_PRECONDITION if
// there are more), in no particular order.
Result<std::vector<DataObject>> ReadDataObjects(SessionPool::Lease& lease, const std::string& label,
                                                size_t max = 64);

// Creates a private token data object with CKA_APPLICATION `application`; returns its handle.
Result<CK_OBJECT_HANDLE> CreateDataObject(SessionPool::Lease& lease, const std::string& label,
                                          const std::string& application, ByteView value);

Status DestroyObject(SessionPool::Lease& lease, CK_OBJECT_HANDLE handle);

}  // namespace imprint::p11

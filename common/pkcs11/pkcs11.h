#pragma once
// The PKCS#11 (Cryptoki) C API, from p11-kit's header with the standard CK_* names.

#include <p11-kit/pkcs11.h>

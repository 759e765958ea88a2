#include "common/sql/statement.h"

namespace imprint::sql {

Status Statement::Run() {
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return {};
  }
}

}  // namespace imprint::sql

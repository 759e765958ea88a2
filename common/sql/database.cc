#include "common/sql/database.h"

namespace imprint::sql {

Status Database::Run(std::string_view sql) {
  IMPRINT_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  return stmt.Run();
}

}  // namespace imprint::sql

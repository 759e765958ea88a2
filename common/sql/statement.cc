#include "common/sql/statement.h"

namespace imprint::sql {
namespace {

Status StepToEnd(Cursor& cursor) {
  for (;;) {
    IMPRINT_ASSIGN_OR_RETURN(bool row, cursor.Step());
    if (!row) return {};
  }
}

}  // namespace

Status Cursor::Queue() { return StepToEnd(*this); }

Status Statement::Run() { return StepToEnd(*cursor_); }

}  // namespace imprint::sql

#include "common/postgres/cursor.h"

#include <cstdlib>

#include "common/postgres/database.h"

namespace imprint::sql {
namespace {

constexpr Oid kByteaOid = 17;

}  // namespace

void PgCursor::Set(int index, std::optional<std::string> value, bool binary) {
  if (index < 1 || index > static_cast<int>(values_.size())) {
    if (bind_error_.empty())
      bind_error_ = "parameter index " + std::to_string(index) + " out of range";
    return;
  }
  values_[index - 1] = std::move(value);
  binary_[index - 1] = binary ? 1 : 0;
}

void PgCursor::BindInt(int index, int64_t value) { Set(index, std::to_string(value), false); }
void PgCursor::BindText(int index, std::string_view value) {
  Set(index, std::string(value), false);
}
void PgCursor::BindBlob(int index, ByteView value) {
  Set(index, std::string(reinterpret_cast<const char*>(value.data()), value.size()), true);
}
void PgCursor::BindNull(int index) { Set(index, std::nullopt, false); }

void PgCursor::Clear() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
}

Result<PgResultPtr> PgCursor::Execute(bool wait) {
  if (!bind_error_.empty()) return Fail(Code::kInternal, "binding: " + bind_error_);
  std::vector<const char*> values(values_.size());
  std::vector<int> lengths(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    values[i] = values_[i] ? values_[i]->data() : nullptr;
    lengths[i] = values_[i] ? static_cast<int>(values_[i]->size()) : 0;
  }
  return owner_->Execute(name_, static_cast<int>(values.size()), values.data(), lengths.data(),
                         binary_.data(), wait);
}

Result<bool> PgCursor::Step() {
  if (result_ == nullptr) {
    IMPRINT_ASSIGN_OR_RETURN(PgResultPtr result, Execute(true));
    result_ = result.release();
  }
  ++row_;
  return row_ < PQntuples(result_);
}

Status PgCursor::Queue() {
  IMPRINT_ASSIGN_OR_RETURN(PgResultPtr unused, Execute(false));
  return {};
}

void PgCursor::Reset() {
  Clear();
  for (auto& v : values_) v.reset();
  bind_error_.clear();
}

int64_t PgCursor::ColumnInt64(int col) const {
  return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
}

std::string PgCursor::ColumnText(int col) const {
  return std::string(PQgetvalue(result_, row_, col),
                     static_cast<size_t>(PQgetlength(result_, row_, col)));
}

Bytes PgCursor::ColumnBlob(int col) const {
  if (PQgetisnull(result_, row_, col)) return {};
  const char* text = PQgetvalue(result_, row_, col);
  if (PQftype(result_, col) != kByteaOid) {
    return Bytes(text, text + PQgetlength(result_, row_, col));
  }
  size_t length = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &length);
  if (raw == nullptr) return {};
  Bytes out(raw, raw + length);
  PQfreemem(raw);
  return out;
}

bool PgCursor::ColumnIsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }

}  // namespace imprint::sql

// SPDX-License-Identifier: Apache-2.0
// Sigma field modifiers and values -> vigil condition text for one field.
//
// Sigma compares strings case-insensitively unless `|cased` is given, treats
// `*` and `?` in values as wildcards (`\*`, `\?`, `\\` are literal), ORs the
// values of a list (`|all` ANDs them) and applies value transformations
// (`windash`, `base64`, `base64offset`) before the position modifiers
// (`contains`, `startswith`, `endswith`). Each value becomes the cheapest
// vigil check that means the same: `=`/`in` on `tolower(f)`, `startswith`,
// `endswith`, `icontains`, `iglob` only for wildcards in the middle, `regex`
// for `|re` (RE2 full match wrapped as a search, as Sigma's re searches).
//
// Contract: nothing here throws. A problem is returned as a ValueProblem:
// `unsupported` for valid Sigma vigil cannot express (with the class used to
// count reasons), otherwise an error in the rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/fields/field_table.h"

namespace vigil::sigma {

struct ValueProblem {
  bool unsupported = false;
  std::string reason_class;  // unsupported only: e.g. "modifier 'utf16'"
  std::string message;
};

struct Modifiers {
  bool contains = false, startswith = false, endswith = false;
  bool all = false;
  bool re = false, re_i = false, re_m = false, re_s = false;
  bool cidr = false;
  bool base64 = false, base64offset = false;
  bool windash = false;
  bool exists = false;
  bool cased = false;
  std::string compare;  // ">", ">=", "<", "<=" for gt/gte/lt/lte
};

// Parses "|a|b" modifier names (the text after the field name, split on '|').
std::optional<ValueProblem> ParseModifiers(const std::vector<std::string>& names, Modifiers* out);

// The vigil field a Sigma field maps to, with the type the check is built for.
struct TargetField {
  std::string name;  // e.g. proc.argv, proc.argv[1], fd.sip
  FieldType type = FieldType::kString;
};

// One scalar value as written (null_value: YAML null / ~).
struct SigmaValue {
  std::string text;
  bool is_null = false;
};

// The check for `values` (one, or a list) of `field` under `mods`; parenthesized when compound.
std::optional<ValueProblem> BuildFieldCheck(const TargetField& field, const Modifiers& mods,
                                            const std::vector<SigmaValue>& values, std::string* out);

// Quotes `s` for a vigil condition ("...", escaping \ " and control bytes).
std::string QuoteValue(std::string_view s);
// Sigma's value transformations, exposed for tests.
std::string Base64(std::string_view s);
std::vector<std::string> Base64Offsets(std::string_view s);
std::vector<std::string> WindashVariants(std::string_view s);

}  // namespace vigil::sigma

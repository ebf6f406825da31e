// SPDX-License-Identifier: Apache-2.0
// Output templates: "%proc.name opened %fd.name" is split once at load into
// literal text and resolved fields; Render() runs only when a rule fires.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/alert.h"
#include "engine/compile/compiler.h"

namespace vigil::compile {

class OutputTemplate {
 public:
  // Reports unknown fields (with the offset of the '%') to `diags` via `ctx`.
  bool Build(std::string_view text, Compiler* compiler, const ItemContext& ctx, Diagnostics* diags,
             std::set<std::string>* na_fields);
  // Appends the rendered text; fills typed values for every distinct %field.
  void Render(const FieldContext& fctx, std::string* out,
              std::vector<std::pair<std::string, FieldValue>>* fields) const;
  // Calls fn(text) for each %field, with the field as written ("fd.name").
  template <class Fn>
  void ForEachField(Fn fn) const {
    for (const Segment& s : segments_)
      if (s.field) fn(s.field->text);
  }

 private:
  struct Segment {
    std::string literal;
    std::unique_ptr<FieldAccessor> field;  // null: literal only
  };
  std::vector<Segment> segments_;
};

}  // namespace vigil::compile

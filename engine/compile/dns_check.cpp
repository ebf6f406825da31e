// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/dns_check.h"

#include "engine/fields/dns.h"
#include "engine/state/dns_cache.h"

namespace vigil::compile {
namespace {

using condition::CmpOp;

class DnsNameCheck : public Check {
 public:
  DnsNameCheck(std::unique_ptr<FieldAccessor> field, bool negate, std::vector<int> ids, DnsCache* dns)
      : field_(std::move(field)), negate_(negate), ids_(std::move(ids)), dns_(dns) {}

  bool Eval(const FieldContext& ctx) const override {
    uint16_t family = 0;
    IpAddr addr;
    if (!DnsFieldAddress(*field_->def, ctx, &family, &addr)) return false;
    bool any = false;
    for (int id : ids_)
      if (dns_->Contains(id, family, addr)) {
        any = true;
        break;
      }
    return negate_ ? !any : any;
  }

 private:
  std::unique_ptr<FieldAccessor> field_;
  bool negate_;
  std::vector<int> ids_;  // -1: a name the cache refused (full); never matches
  DnsCache* dns_;
};

}  // namespace

bool IsDnsNameCompare(const FieldAccessor& field, CmpOp op) {
  return field.def != nullptr && IsDnsNameField(*field.def) && !field.arg.present && field.transformers.empty() &&
         (op == CmpOp::kEq || op == CmpOp::kNe || op == CmpOp::kIn || op == CmpOp::kIntersects);
}

std::unique_ptr<Check> MakeDnsNameCheck(std::unique_ptr<FieldAccessor> field, CmpOp op,
                                        const std::vector<std::string>& names, DnsCache* dns) {
  std::string key = "\x1c" + field->text + '\x1f' + std::string(condition::CmpOpName(op));
  std::vector<int> ids;
  for (const auto& n : names) {
    ids.push_back(dns->Register(n));
    key += '\x1e' + std::to_string(n.size()) + ':' + n;
  }
  auto c = std::make_unique<DnsNameCheck>(std::move(field), op == CmpOp::kNe, std::move(ids), dns);
  c->key = std::move(key);
  return c;
}

}  // namespace vigil::compile

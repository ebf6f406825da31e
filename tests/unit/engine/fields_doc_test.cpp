// SPDX-License-Identifier: Apache-2.0
// docs/fields.md is generated from the field table; this test fails when the
// two drift. Regenerate with: VIGIL_UPDATE_DOCS=1 fields_doc_test (or
// `vigil fields --markdown > docs/fields.md`).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/fields/field_table.h"

#ifndef VIGIL_DOCS_DIR
#error "VIGIL_DOCS_DIR must point at docs/"
#endif

TEST_CASE("docs/fields.md matches the field table", "[unit]") {
  std::string generated = vigil::FieldsMarkdown();
  std::string path = std::string(VIGIL_DOCS_DIR) + "/fields.md";
  if (std::getenv("VIGIL_UPDATE_DOCS")) std::ofstream(path) << generated;
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream doc;
  doc << in.rdbuf();
  CHECK(doc.str() == generated);
}

TEST_CASE("field table: unique names, every field resolvable, descriptions present", "[unit]") {
  std::set<std::string> names;
  for (const auto& f : vigil::AllFields()) {
    INFO(f.name);
    CHECK(names.insert(f.name).second);
    CHECK(std::string(f.description).size() > 5);
    CHECK(f.get != nullptr);
    if (std::string(f.name).find('*') == std::string::npos) CHECK(vigil::FindField(f.name) == &f);
  }
  CHECK(vigil::FindField("k8s.pod.name") != nullptr);
  CHECK(vigil::FindField("k8s.pod.name")->available);  // from the runtime's io.kubernetes.* labels
  REQUIRE(vigil::FindField("k8s.deployment.name") != nullptr);
  CHECK_FALSE(vigil::FindField("k8s.deployment.name")->available);
  CHECK(vigil::FindField("container.image.tag") != nullptr);
  CHECK(vigil::FindField("proc.nosuch") == nullptr);
}

// Issue 22: a getter shared by several rows tells them apart by the row's id
// in its family's enum (engine/fields/<family>.cpp); two rows with one getter
// and one id would read the same value under two names.
TEST_CASE("field table: rows sharing a getter have distinct ids", "[unit]") {
  std::set<std::pair<vigil::FieldGetter, uint16_t>> seen;
  for (const auto& f : vigil::AllFields()) {
    INFO(f.name);
    if (f.available) CHECK(seen.insert({f.get, f.id}).second);
  }
  // The ancestor rows keep their element type when indexed: a pid is a number.
  const vigil::FieldArg indexed{true, 1, "1"};
  CHECK(vigil::EffectiveType(*vigil::FindField("proc.apid"), indexed) == vigil::FieldType::kNumber);
  CHECK(vigil::EffectiveType(*vigil::FindField("proc.aname"), indexed) == vigil::FieldType::kString);
  CHECK(vigil::EffectiveType(*vigil::FindField("proc.aname"), vigil::FieldArg{}) == vigil::FieldType::kStringList);
}

#include "slimformer/core/settings.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::expect_user_error;

core::Settings defaults() {
  core::Settings s;
  s.set("train.lr", 5e-4, "default");
  s.set("train.max_steps", 100, "default");
  s.set("train.schedule", "inverse_sqrt", "default");
  s.set("model.pre_norm", false, "default");
  return s;
}

const std::vector<std::string> kKeys = {"train.lr", "train.max_steps", "train.schedule",
                                        "model.pre_norm"};

TEST(Settings, RecipeOverridesDefaultsAndRemembersLines) {
  testing::TempDir dir;
  auto path = testing::write_file(
      dir / "r.yaml", "train:\n  lr: 0.001\n  max-steps: 7\nmodel:\n  pre_norm: true\n");
  auto s = defaults();
  core::load_recipe(path, kKeys, s);
  EXPECT_DOUBLE_EQ(s.get_double("train.lr"), 0.001);
  EXPECT_EQ(s.get_int("train.max_steps"), 7);
  EXPECT_TRUE(s.get_bool("model.pre_norm"));
  EXPECT_EQ(s.origin("train.max_steps"), path + ":3");
  EXPECT_EQ(s.to_nested_json()["train"]["max_steps"], 7);
}

TEST(Settings, BadValueNamesRecipeLineAndField) {
  testing::TempDir dir;
  auto path = testing::write_file(dir / "r.yaml", "# recipe\ntrain:\n  lr: -1\n");
  auto s = defaults();
  core::load_recipe(path, kKeys, s);
  expect_user_error([&] { s.get_double_in("train.lr", 0, 10, false); },
                    path + ":3: train.lr must be in [0, 10], got -1");
}

TEST(Settings, BadCommandLineValueNamesTheFlag) {
  auto s = defaults();
  s.set("train.max_steps", "ten", "--max-steps");
  expect_user_error([&] { s.get_int("train.max_steps"); },
                    "--max-steps must be an integer, got \"ten\"");
  s.set("train.schedule", "cosine", "--schedule");
  expect_user_error(
      [&] {
        s.get_choice("train.schedule", {"inverse_sqrt", "linear"});
      },
      "--schedule must be one of inverse_sqrt|linear, got \"cosine\"");
}

TEST(Settings, UnknownFieldAndMalformedRecipeAreRefused) {
  testing::TempDir dir;
  auto s = defaults();
  auto unknown = testing::write_file(dir / "u.yaml", "train:\n  lr: 0.1\n  lrr: 0.2\n");
  expect_user_error([&] { core::load_recipe(unknown, kKeys, s); },
                    unknown + ":3: unknown field train.lrr");
  auto section = testing::write_file(dir / "s.yaml", "optim:\n  lr: 0.1\n");
  expect_user_error([&] { core::load_recipe(section, kKeys, s); },
                    section + ":1: unknown section optim");
  auto broken = testing::write_file(dir / "b.yaml", "train:\n  lr: [1, 2\n");
  try {
    core::load_recipe(broken, kKeys, s);
    FAIL();
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(broken + ":", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed recipe"), std::string::npos) << e.what();
  }
  expect_user_error([&] { core::load_recipe((dir / "none.yaml").string(), kKeys, s); },
                    (dir / "none.yaml").string() + ": recipe file not found");
}

}  // namespace
}  // namespace slimformer

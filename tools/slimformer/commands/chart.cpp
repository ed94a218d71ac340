// slimformer chart: draws columns of a results table (a tab-separated file with a header row, such
// as sparsity.tsv or a recipe's table.tsv) as an SVG line chart, one line per y column and group.
#include <fmt/format.h>

#include <map>
#include <sstream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/report/svg_chart.h"

namespace slimformer::tools {

namespace {

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, '\t');) cells.push_back(cell);
  return cells;
}

Table read_tsv(const std::string& path) {
  std::stringstream in(core::read_file(path));
  Table table;
  std::string line;
  if (!std::getline(in, line)) throw core::UserError(fmt::format("{}: empty table", path));
  table.columns = split_tabs(line);
  for (int64_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto cells = split_tabs(line);
    if (cells.size() != table.columns.size())
      throw core::UserError(fmt::format("{} line {}: {} cells, the header has {}", path, number,
                                        cells.size(), table.columns.size()));
    table.rows.push_back(std::move(cells));
  }
  return table;
}

size_t column_index(const Table& table, const std::string& name, const std::string& path,
                    const std::string& option) {
  for (size_t i = 0; i < table.columns.size(); ++i)
    if (table.columns[i] == name) return i;
  throw core::UserError(fmt::format("{}: no column '{}' in {} (columns: {})", option, name, path,
                                    fmt::join(table.columns, ", ")));
}

double number(const std::string& cell, const std::string& path, size_t row,
              const std::string& column) {
  try {
    size_t used = 0;
    const double value = std::stod(cell, &used);
    if (used == cell.size()) return value;
  } catch (const std::exception&) {
  }
  throw core::UserError(
      fmt::format("{} line {}, column '{}': '{}' is not a number", path, row + 2, column, cell));
}

}  // namespace

void register_chart(CLI::App& app) {
  auto* cmd = app.add_subcommand("chart", "draw columns of a results table as an SVG line chart");
  struct Args {
    std::string table, x, group, output, title, y_label;
    std::vector<std::string> y;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("table", a->table, "tab-separated table with a header row")->required();
  cmd->add_option("--x", a->x, "column on the x axis")->required();
  cmd->add_option("--y", a->y, "columns on the y axis, one line each (comma-separated)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--group", a->group, "column whose values split the rows into separate lines");
  cmd->add_option("--title", a->title, "chart title");
  cmd->add_option("--y-label", a->y_label, "y axis label (default: the y column)");
  cmd->add_option("--output", a->output, "SVG file to write")->required();
  add_recipe_flags(cmd);
  cmd->callback([a] {
    const auto table = read_tsv(a->table);
    const size_t x = column_index(table, a->x, a->table, "--x");
    const bool grouped = !a->group.empty();
    const size_t group = grouped ? column_index(table, a->group, a->table, "--group") : 0;
    report::LineChart chart;
    chart.title = a->title;
    chart.x_label = a->x;
    chart.y_label = a->y_label.empty() ? fmt::format("{}", fmt::join(a->y, ", ")) : a->y_label;
    for (const auto& y_name : a->y) {
      const size_t y = column_index(table, y_name, a->table, "--y");
      std::map<std::string, size_t> series_of_group;  // in order of first appearance
      for (size_t r = 0; r < table.rows.size(); ++r) {
        const auto& row = table.rows[r];
        const std::string key = grouped ? row[group] : "";
        auto [it, fresh] = series_of_group.try_emplace(key, chart.series.size());
        if (fresh) {
          std::string name = a->y.size() > 1 || !grouped ? y_name : "";
          if (grouped) name += (name.empty() ? "" : ", ") + key;
          chart.series.push_back({name, {}, {}});
        }
        auto& series = chart.series[it->second];
        series.x.push_back(number(row[x], a->table, r, a->x));
        series.y.push_back(number(row[y], a->table, r, y_name));
      }
    }
    core::write_text_atomically(a->output, report::line_chart_svg(chart));
    fmt::print("wrote {} ({} lines, {} rows)\n", a->output, chart.series.size(), table.rows.size());
  });
}

}  // namespace slimformer::tools

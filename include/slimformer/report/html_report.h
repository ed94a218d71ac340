// A small self-contained HTML report: headings, paragraphs, tables and preformatted text, with
// inline styles and no external resources, so it opens anywhere.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace slimformer::report {

class HtmlReport {
 public:
  explicit HtmlReport(std::string title);
  void heading(const std::string& text);
  void paragraph(const std::string& text);
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows);
  void preformatted(const std::string& text);
  // Inserts markup as is (an SVG figure, for instance).
  void raw(const std::string& html);
  std::string render() const;
  void save(const std::filesystem::path& path) const;  // atomic

 private:
  std::string title_;
  std::string body_;
};

std::string html_escape(const std::string& text);

}  // namespace slimformer::report

#include "slimformer/report/html_report.h"

#include "slimformer/core/files.h"

namespace slimformer::report {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {}

void HtmlReport::heading(const std::string& text) {
  body_ += "<h2>" + html_escape(text) + "</h2>\n";
}

void HtmlReport::paragraph(const std::string& text) {
  body_ += "<p>" + html_escape(text) + "</p>\n";
}

void HtmlReport::table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table><tr>";
  for (const auto& h : header) body_ += "<th>" + html_escape(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const auto& cell : row) body_ += "<td>" + html_escape(cell) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void HtmlReport::preformatted(const std::string& text) {
  body_ += "<pre>" + html_escape(text) + "</pre>\n";
}

void HtmlReport::raw(const std::string& html) { body_ += html + "\n"; }

std::string HtmlReport::render() const {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(title_) +
         "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em "
         ".6em;"
         "text-align:left}th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow-x:auto}"
         "</style></head><body>\n<h1>" +
         html_escape(title_) + "</h1>\n" + body_ + "</body></html>\n";
}

void HtmlReport::save(const std::filesystem::path& path) const {
  core::write_text_atomically(path, render());
}

}  // namespace slimformer::report

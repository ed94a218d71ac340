// slimformer serve: an HTTP server on localhost answering questions about passages with a span-QA
// encoder, from a passage cache when the model is decomposed (DeFormer), JSON in and out, and a
// web page at "/". Model computations run one at a time (pipeline::QaService); requests are
// served concurrently around them.
#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "commands.h"
#include "options.h"
#include "serve_page.h"
#include "slimformer/core/runtime.h"
#include "slimformer/pipeline/qa_service.h"

namespace slimformer::tools {

namespace {

using json = nlohmann::json;

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void refuse(httplib::Response& res, int status, const std::string& reason) {
  reply(res, status, {{"error", reason}});
}

// The first `bytes` bytes of `text`, not cutting a UTF-8 sequence.
std::string preview(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes) + "…";
}

// A string member of a request, or a 400 reason.
std::string string_member(const json& body, const char* name, std::string& error) {
  if (!body.contains(name)) return "";
  if (!body.at(name).is_string()) {
    error = fmt::format("field '{}' must be a string", name);
    return "";
  }
  return body.at(name).get<std::string>();
}

json answer_json(const pipeline::QaAnswer& a) {
  return {{"answer", a.text},
          {"score", a.score},
          {"milliseconds", a.milliseconds},
          {"cached", a.cached},
          {"windows", a.windows},
          {"question_tokens", a.question_tokens},
          {"passage_tokens", a.passage_tokens}};
}

void route(httplib::Server& server, pipeline::QaService& service, size_t max_question_bytes) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kServePage, "text/html; charset=utf-8");
  });
  server.Get("/info", [&service](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, service.describe());
  });
  server.Get("/passages", [&service](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 100;
    if (req.has_param("limit")) {
      try {
        limit = std::stoul(req.get_param_value("limit"));
      } catch (const std::exception&) {
        return refuse(res, 400, "limit must be a non-negative integer");
      }
    }
    json out = {{"total", service.passage_ids().size()}, {"passages", json::array()}};
    for (const auto& id : service.passage_ids()) {
      if (out["passages"].size() >= limit) break;
      out["passages"].push_back({{"id", id}, {"preview", preview(service.passage_text(id), 80)}});
    }
    reply(res, 200, out);
  });
  server.Get(R"(/passages/(.+))", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    try {
      reply(res, 200, {{"id", id}, {"text", service.passage_text(id)}});
    } catch (const pipeline::UnknownPassage& e) {
      refuse(res, 404, e.what());
    }
  });
  server.Post("/answer", [&service, max_question_bytes](const httplib::Request& req,
                                                         httplib::Response& res) {
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::exception&) {
      return refuse(res, 400, "the body is not JSON");
    }
    if (!body.is_object()) return refuse(res, 400, "the body must be a JSON object");
    std::string error;
    const std::string question = string_member(body, "question", error);
    const std::string id = string_member(body, "passage_id", error);
    const std::string passage = string_member(body, "passage", error);
    if (!error.empty()) return refuse(res, 400, error);
    if (question.empty()) return refuse(res, 400, "field 'question' is required");
    if (question.size() > max_question_bytes)
      return refuse(res, 413, fmt::format("the question is over {} bytes", max_question_bytes));
    if (id.empty() == passage.empty())
      return refuse(res, 400, "give exactly one of 'passage_id' and 'passage'");
    if (body.contains("cache") && !body.at("cache").is_boolean())
      return refuse(res, 400, "field 'cache' must be true or false");
    const bool use_cache = body.value("cache", true);
    try {
      pipeline::QaAnswer a = !passage.empty() ? service.answer_text(question, passage)
                             : use_cache      ? service.answer_by_id(question, id)
                                              : service.answer_by_id_uncached(question, id);
      reply(res, 200, answer_json(a));
    } catch (const pipeline::UnknownPassage& e) {
      refuse(res, 404, e.what());
    } catch (const core::UserError& e) {
      refuse(res, 422, e.what());
    }
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("request failed: {}", what);
        refuse(res, 500, what);
      });
}

}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve", "answer questions about passages over HTTP (JSON), with a page at /");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model", "span-QA encoder (decomposed or not)");
  options->add("serve.cache", "", "passage cache of the model (slimformer cache)", "--cache");
  options->add("serve.passages", "",
               "passages answered by id without a cache (SQuAD JSON or id<TAB>text TSV)",
               "--passages");
  options->add("serve.host", "127.0.0.1", "address to listen on", "--host");
  options->add("serve.port", 8080, "port (0: any free port, printed)", "--port");
  options->add("serve.max_request_bytes", 65536, "largest request body accepted",
               "--max-request-bytes");
  options->add("serve.max_question_bytes", 2000, "longest question accepted",
               "--max-question-bytes");
  options->add("serve.threads", 8, "requests handled at once (model work runs one at a time)",
               "--server-threads");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const std::string cache = s.get_string("serve.cache"), passages = s.get_string("serve.passages");
    if (cache.empty() && passages.empty())
      throw core::UserError("give --cache DIR or --passages FILE: the passages to answer from");
    const int64_t port = s.get_int("serve.port");
    if (port < 0 || port > 65535) throw core::UserError("--port must be in [0, 65535]");
    const int64_t threads = s.get_int_at_least("serve.threads", 1);
    pipeline::QaService service(s.get_string("model"), cache, passages,
                                core::parse_device(common->device));
    httplib::Server server;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    server.set_payload_max_length(size_t(s.get_int_at_least("serve.max_request_bytes", 1)));
    route(server, service, size_t(s.get_int_at_least("serve.max_question_bytes", 1)));
    const std::string host = s.get_string("serve.host");
    const int bound = port == 0 ? server.bind_to_any_port(host)
                                : (server.bind_to_port(host, int(port)) ? int(port) : -1);
    if (bound < 0)
      throw core::UserError(fmt::format("cannot listen on {}:{} (in use?)", host, port));
    fmt::print("serving {} on http://{}:{}/ ({} passages{})\n", s.get_string("model"), host, bound,
               service.passage_ids().size(), cache.empty() ? "" : ", cached");
    std::fflush(stdout);
    // Stops on SIGINT or SIGTERM (the signal handler only sets the flag).
    std::thread watcher([&server] {
      while (!g_stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
    });
    server.listen_after_bind();
    g_stop_requested = true;
    watcher.join();
  });
}

}  // namespace slimformer::tools

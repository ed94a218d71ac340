// The passage cache's stores: an entry as stored in LMDB (its checksum restamped, so that the
// fuzzer reaches the decoder behind it) and the cache's identity record. The LMDB file itself is
// liblmdb's to read; every entry in it is checksummed.
#include "fuzz_input.h"
#include "slimformer/core/checksum.h"
#include "slimformer/methods/decompose/passage_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slimformer;
  if (size < 1) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    nlohmann::json record;
    try {  // as PassageCache: unparsable JSON is a UserError
      record = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception&) {
      return 0;
    }
    return fuzz::expect_user_errors_only(
        [&] { methods::CacheIdentity::from_json(record, "fuzz-cache"); });
  }
  if ((data[0] & 2) && bytes.size() >= sizeof(uint64_t)) {
    const uint64_t sum = core::fnv1a(bytes.data(), bytes.size() - sizeof(uint64_t));
    std::memcpy(bytes.data() + bytes.size() - sizeof(uint64_t), &sum, sizeof sum);
  }
  return fuzz::expect_user_errors_only([&] { methods::decode_passage(bytes, "p1", "fuzz-cache"); });
}

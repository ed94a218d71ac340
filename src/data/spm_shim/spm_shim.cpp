#include "spm_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

void copy_message(const std::string& message, char* err, int capacity) {
  if (!err || capacity <= 0) return;
  std::strncpy(err, message.c_str(), capacity - 1);
  err[capacity - 1] = '\0';
}

}  // namespace

extern "C" {

void* slimformer_spm_load(const char* path, char* err, int err_capacity) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  auto status = processor->Load(path);
  if (!status.ok()) {
    copy_message(status.ToString(), err, err_capacity);
    delete processor;
    return nullptr;
  }
  return processor;
}

void slimformer_spm_free(void* handle) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

int slimformer_spm_piece_size(void* handle) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

void slimformer_spm_special_ids(void* handle, int* ids4) {
  auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
  ids4[0] = p->pad_id(), ids4[1] = p->unk_id(), ids4[2] = p->bos_id(), ids4[3] = p->eos_id();
}

int slimformer_spm_piece_to_id(void* handle, const char* piece) {
  auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
  const int id = p->PieceToId(piece);
  return id == p->unk_id() && p->IdToPiece(id) != piece ? -1 : id;
}

int slimformer_spm_encode(void* handle, const char* text, int* ids, int capacity) {
  std::vector<int> out;
  static_cast<sentencepiece::SentencePieceProcessor*>(handle)->Encode(text, &out);
  for (int i = 0; i < static_cast<int>(out.size()) && i < capacity; ++i) ids[i] = out[i];
  return static_cast<int>(out.size());
}

int slimformer_spm_decode(void* handle, const int* ids, int count, char* text, int capacity) {
  std::string out;
  static_cast<sentencepiece::SentencePieceProcessor*>(handle)->Decode(
      std::vector<int>(ids, ids + count), &out);
  std::memcpy(text, out.data(), std::min<size_t>(out.size(), capacity > 0 ? capacity : 0));
  return static_cast<int>(out.size());
}

int slimformer_spm_train(const char* args, char* err, int err_capacity) {
  auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) {
    copy_message(status.ToString(), err, err_capacity);
    return 1;
  }
  return 0;
}

}  // extern "C"

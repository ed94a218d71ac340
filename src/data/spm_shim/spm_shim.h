// A C interface to sentencepiece, compiled into its own shared library.
//
// Why: Debian's libsentencepiece carries its own copy of protobuf 3.14, LibTorch loads the
// system protobuf 3.21, and with both in one symbol scope one of them crashes at start-up. The
// library loads this shim into a link-map namespace of its own (dlmopen), so each keeps its own
// protobuf (and C++ runtime). Only plain C types cross the boundary, and memory is never freed
// on the other side.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// Returns a handle, or null with a message in err.
void* slimformer_spm_load(const char* path, char* err, int err_capacity);
void slimformer_spm_free(void* handle);
int slimformer_spm_piece_size(void* handle);
// pad, unk, bos, eos ids.
void slimformer_spm_special_ids(void* handle, int* ids4);
// The id of `piece`, or -1 if the vocabulary has no such piece.
int slimformer_spm_piece_to_id(void* handle, const char* piece);
// Writes up to `capacity` ids; returns how many there are (call again with more room if larger).
int slimformer_spm_encode(void* handle, const char* text, int* ids, int capacity);
// Writes up to `capacity` bytes (no terminator); returns the full length.
int slimformer_spm_decode(void* handle, const int* ids, int count, char* text, int capacity);
// Runs the sentencepiece trainer with command-line style arguments; 0 on success.
int slimformer_spm_train(const char* args, char* err, int err_capacity);

#ifdef __cplusplus
}
#endif

// Anchors the shared precompiled header (LibTorch and JSON) that every target reuses.

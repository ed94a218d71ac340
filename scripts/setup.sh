#!/usr/bin/env bash
# Installs slimformer's build and run dependencies from Debian 12 packages (idempotent) and
# makes sure LibTorch runs on OpenBLAS rather than the reference BLAS.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config zlib1g-dev
  libtorch-dev libopenblas0-pthread libopenblas-pthread-dev
  libsentencepiece-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  liblmdb-dev libcpp-httplib-dev libgloo-dev curl jq
  python3-dev pybind11-dev python3-pytest python3-numpy
  clang libclang-rt-14-dev  # the loaders' fuzz targets (fuzz/)
)
# The PyTorch peer benchmarks need Debian's python3-torch; only `make bench` asks for it.
if [[ "${SLIMFORMER_SETUP_PEERS:-0}" == 1 ]]; then packages+=(python3-torch); fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch links libblas.so.3; Debian resolves it through an alternative that may point at the
# reference BLAS (about 30x slower for matmul). Point it at OpenBLAS and verify.
arch_dir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  want="$arch_dir/openblas-pthread/$lib"
  alt="$lib-$(basename "$arch_dir")"
  if [[ ! -e "$want" ]]; then
    echo "setup: error: $want is missing; libopenblas0-pthread did not install it" >&2
    exit 1
  fi
  if [[ "$(readlink -f "$arch_dir/$lib")" != "$(readlink -f "$want")" ]]; then
    echo "setup: pointing $lib at OpenBLAS"
    as_root update-alternatives --set "$alt" "$want" >/dev/null
  fi
  if [[ "$(readlink -f "$arch_dir/$lib")" != "$(readlink -f "$want")" ]]; then
    echo "setup: error: $arch_dir/$lib resolves to $(readlink -f "$arch_dir/$lib"), not OpenBLAS" >&2
    exit 1
  fi
done
echo "setup: dependencies present; BLAS is OpenBLAS ($(readlink -f "$arch_dir/libblas.so.3"))"

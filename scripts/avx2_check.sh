#!/usr/bin/env bash
# The parity tests on an AVX2 CPU without VNNI, on any x86-64 machine: qemu-user emulates a Haswell
# CPU (its CPUID has AVX2 and no VNNI, so onnxruntime takes its saturating U8S8 kernel) and a private
# mount namespace shows newsrag a Haswell /proc/cpuinfo. Needs root and `apt-get install qemu-user`.
#
#   scripts/avx2_check.sh           # as newsrag loads the models: the parity tests pass
#   scripts/avx2_check.sh shipped   # newsrag told the CPU has VNNI, so the files run as shipped: they fail
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-x86_64 >/dev/null || { echo "avx2_check: needs qemu-user (apt-get install qemu-user)" >&2; exit 2; }
flags="fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt aes avx f16c fma avx2 bmi1 bmi2 movbe"
[ "${1:-}" = shipped ] && flags="$flags avx512f avx512bw avx512dq avx512vl avx512_vnni"
cpuinfo=$(mktemp)
trap 'rm -f "$cpuinfo"' EXIT
printf 'processor\t: 0\nmodel name\t: emulated Haswell (qemu)\nflags\t\t: %s\n\n' "$flags" > "$cpuinfo"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec unshare --mount --propagation private sh -c '
  mount --bind "$0" /proc/cpuinfo
  exec qemu-x86_64 -cpu Haswell .venv/bin/python -m pytest -q -p no:cacheprovider \
    "tests/test_reader.py::test_parity_fixture_is_reproduced" \
    "tests/test_numerics.py::test_parity_fixture_is_reproduced" -k "not without" 2>&1 | grep -v "TCG doesn.t support"
' "$cpuinfo"

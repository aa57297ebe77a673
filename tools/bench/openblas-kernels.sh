# Sourced by the scripts that time PyTorch: makes OpenBLAS use this processor's vector kernels.
# OpenBLAS picks its kernels by the processor's model number. A model newer than the library gets its generic Prescott
# kernels (SSE3): Debian 12's 0.3.21 does that on Xeons of family 6 model 207 (Emerald Rapids), where its sgemm then ran
# at 29-33 GFLOP/s on 2 threads against 170-185 with the AVX-512 kernels named. So when it falls back so, name the widest
# kernels the processor's flags allow; the report prints the variable. A variable set by the caller is kept.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  detected=$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch' 2>&1 | sed -n 's/^Core: //p' | head -n 1)
  if [ "$detected" = Prescott ]; then
    flags=" $(grep -m 1 '^flags' /proc/cpuinfo) "
    if [[ $flags == *" avx512f "* && $flags == *" avx512bw "* ]]; then export OPENBLAS_CORETYPE=SkylakeX
    elif [[ $flags == *" avx2 "* ]]; then export OPENBLAS_CORETYPE=Haswell
    fi
    echo "bench: OpenBLAS does not know this processor (it chose Prescott); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >&2
  fi
fi

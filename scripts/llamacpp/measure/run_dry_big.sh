#!/usr/bin/env bash
# llama-quantize --dry-run for every type on the big shapes (exact types/sizes, no data written)
ROOT=/work/llamacpp
ALL="Q4_K_M Q8_0 Q6_K Q5_K_M Q4_K_S Q3_K_M Q2_K IQ4_XS Q4_0 Q4_1 Q5_0 Q5_1 Q5_K_S Q3_K_S Q3_K_L IQ4_NL IQ3_S IQ3_M IQ3_XS IQ3_XXS Q2_K_S IQ2_M IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S TQ2_0 TQ1_0 Q2_0 Q1_0 MXFP4_MOE F16 BF16 F32"
for S in "$@"; do
  IMX=${IMX:-none}
  [ "$IMX" != none ] && IMXF=$ROOT/data/imatrix/$S.imatrix.gguf || IMXF=none
  $ROOT/scripts/run_quant.sh $S $ROOT/models/$S-F16.gguf $IMXF dry $ALL
done

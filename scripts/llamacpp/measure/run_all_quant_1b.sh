#!/usr/bin/env bash
# Shape (a) llama-3.2-1b-shape, in the order actually used (time-boxed on 2 cores; IQ types are slow to quantise).
# Step 0 (already run, first 9 types): KEEP=Q4_K_M run_quant.sh ... none real Q4_K_M Q8_0 Q6_K Q5_K_M Q4_K_S Q3_K_M Q2_K IQ4_XS Q4_0
ROOT=/work/llamacpp
S=llama-3.2-1b-shape
ALL="Q4_K_M Q8_0 Q6_K Q5_K_M Q4_K_S Q3_K_M Q2_K IQ4_XS Q4_0 Q4_1 Q5_0 Q5_1 Q5_K_S Q3_K_S Q3_K_L IQ4_NL IQ3_S IQ3_M IQ3_XS IQ3_XXS Q2_K_S IQ2_M IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S TQ2_0 TQ1_0 Q2_0 Q1_0 MXFP4_MOE F16 BF16 F32"
IN=$ROOT/models/$S-F16.gguf
IMX=$ROOT/data/imatrix/$S.imatrix.gguf
Q=$ROOT/scripts/run_quant.sh
# 1) real runs without imatrix (types that need an imatrix fail fast -> recorded as failed)
$Q $S $IN none real Q4_1 Q5_0 Q5_1 Q5_K_S Q3_K_S Q3_K_L IQ3_XS IQ3_XXS Q2_K_S IQ2_M IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S TQ2_0 TQ1_0 Q2_0 Q1_0 MXFP4_MOE F16 BF16 F32
# 2) one fast real run with the imatrix (gives the metadata size of imatrix files), then dry runs for everything
$Q $S $IN $IMX real Q8_0
$Q $S $IN $IMX dry $ALL
$Q $S $IN none dry $ALL
# 3) real runs with the (made-up) imatrix for types that refuse to run without one
$Q $S $IN $IMX real Q2_K_S IQ2_XXS IQ3_XXS
# 4) remaining slow real runs
$Q $S $IN none real IQ4_NL IQ3_S IQ3_M
$Q $S $IN $IMX real IQ2_M IQ1_S IQ2_XS IQ2_S IQ3_XS IQ1_M

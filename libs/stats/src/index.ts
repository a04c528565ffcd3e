export * from './result';
export { normalCdf, normalSf, normalPdf, normalQuantile, normalIsf, logNormalCdf } from './normal';
export { studentTCdf, studentTSf, studentTPdf, studentTQuantile, studentTTwoSidedP } from './student-t';
export { chiSquareCdf, chiSquareSf } from './chi-square';
export { logGamma, logBeta, gammaFn, regularizedGammaP, regularizedGammaQ } from './gamma';
export { regularizedBeta } from './beta';
export {
  type MeanStats,
  type ProportionStats,
  mergeMeanStats,
  proportionToMeanStats,
  ZERO_VARIANCE_RELATIVE,
} from './sufficient-stats';
export * from './summary';
export * from './welch';
export * from './wilson';
export * from './two-proportion';
export * from './srm';
export * from './sequential';
export * from './sample-size';
export * from './random';
export * from './holm';
export * from './non-inferiority';
export * from './decision';

/**
 * Standard normal distribution.
 *
 * cdf/sf: W. J. Cody (1969, 1993), "Rational Chebyshev approximations for the error function",
 * ACM TOMS Algorithm 715, in the three-range form used by R's pnorm. Each tail is computed
 * directly (never as 1 − cdf), so sf(8) ≈ 6.2e-16 keeps full relative precision.
 * quantile: M. J. Wichura (1988), Algorithm AS 241 (PPND16), relative accuracy about 1e-16.
 */

const A = [
  2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745,
];
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726,
  6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
];
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097,
  34900.95272114598, 38912.00328609327, 19685.429676859992,
];
const P = [
  0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 2.9112874951168793e-5,
  0.023073441764940174,
];
const Q = [
  1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 7.297515550839662e-5,
];

const INV_SQRT_2PI = 0.3989422804014327;
const SQRT_32 = 5.656854249492381;

/** exp(−x²/2) without the cancellation of squaring x in one go (Cody's split at 1/16ths). */
function gaussianKernel(x: number): number {
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5);
}

/** Lower-tail probability Φ(x), accurate in relative terms for x ≪ 0. */
function lowerTail(x: number): number {
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    let num = 0;
    let den = 0;
    if (y > 1.1102230246251565e-16) {
      const xsq = x * x;
      num = A[4] * xsq;
      den = xsq;
      for (let i = 0; i < 3; i++) {
        num = (num + A[i]) * xsq;
        den = (den + B[i]) * xsq;
      }
    }
    return 0.5 + (x * (num + A[3])) / (den + B[3]);
  }
  let small: number;
  if (y <= SQRT_32) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    small = gaussianKernel(y) * ((num + C[7]) / (den + D[7]));
  } else if (y < 38.5) {
    const xsq = 1 / (x * x);
    let num = P[5] * xsq;
    let den = xsq;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]) * xsq;
      den = (den + Q[i]) * xsq;
    }
    const r = (xsq * (num + P[4])) / (den + Q[4]);
    small = (gaussianKernel(y) * (INV_SQRT_2PI - r)) / y;
  } else {
    small = 0;
  }
  return x > 0 ? 1 - small : small;
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * gaussianKernel(Math.abs(x));
}

/** Φ(x) = P(Z ≤ x). NaN in, NaN out. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return lowerTail(x);
}

/** 1 − Φ(x) = P(Z > x), computed directly so upper tails keep relative precision. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return lowerTail(-x);
}

/** Φ⁻¹(p). Returns ±Infinity at p = 0/1 and NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301227 + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) *
          r +
          13731.69376550946) *
          r +
          1971.5909503065513) *
          r +
          133.14166789178438) *
          r +
          3.3871328727963665)) /
      (((((((r * 5226.495278852854 + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) *
        r +
        5394.196021424751) *
        r +
        687.1870074920579) *
        r +
        42.31333070160091) *
        r +
        1)
    );
  }
  // For p > 0.5, 1 − p is exact (Sterbenz), so no precision is lost forming the tail.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((r * 0.0007745450142783414 + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((r * 1.0507500716444169e-9 + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1);
  } else {
    r -= 5;
    value =
      (((((((r * 2.0103343992922881e-7 + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r +
        0.026532189526576124) *
        r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r +
        0.0007868691311456133) *
        r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
        1);
  }
  return q < 0 ? -value : value;
}

/** Upper quantile: the x with P(Z > x) = q, exact for tiny q where 1 − q would round. */
export function normalIsf(q: number): number {
  return -normalQuantile(q);
}

/**
 * ln Φ(x), finite far into the lower tail where Φ(x) underflows (x < −38.5): there the asymptotic
 * expansion ln Φ(x) = −x²/2 − ln(−x) − ½ ln 2π + ln(1 − x⁻² + 3x⁻⁴ − 15x⁻⁶ + 105x⁻⁸) is used,
 * whose next term is below 1e-12 for x ≤ −37 (scipy.special.log_ndtr).
 */
export function logNormalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 0) return Math.log1p(-lowerTail(-x));
  if (x > -37) return Math.log(lowerTail(x));
  const r = 1 / (x * x);
  const series = 1 + r * (-1 + r * (3 + r * (-15 + r * 105)));
  return -0.5 * x * x - Math.log(-x) - 0.5 * Math.log(2 * Math.PI) + Math.log(series);
}

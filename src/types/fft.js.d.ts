/** Types for fft.js 4 (radix-4 FFT, power-of-two sizes; MIT), which ships none. */
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    /** out: interleaved [re, im]; fills the first half of the spectrum of a real input */
    realTransform(out: number[], input: ArrayLike<number>): void;
    completeSpectrum(out: number[]): void;
    transform(out: number[], input: ArrayLike<number>): void;
  }
}

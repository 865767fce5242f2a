/** NAB's published scoreboard (NAB README, v1.0): standard / reward-low-FP / reward-low-FN. */
export const NAB_SCOREBOARD: readonly { readonly detector: string; readonly standard: number; readonly lowFp: number; readonly lowFn: number }[] = [
  { detector: 'Perfect', standard: 100, lowFp: 100, lowFn: 100 },
  { detector: 'ARTime', standard: 74.9, lowFp: 65.1, lowFn: 80.4 },
  { detector: 'Numenta HTM', standard: 70.5, lowFp: 62.6, lowFn: 75.2 },
  { detector: 'CAD OSE', standard: 69.9, lowFp: 67.0, lowFn: 73.2 },
  { detector: 'earthgecko Skyline', standard: 58.2, lowFp: 46.2, lowFn: 63.9 },
  { detector: 'KNN CAD', standard: 58.0, lowFp: 43.4, lowFn: 64.8 },
  { detector: 'Relative Entropy', standard: 54.6, lowFp: 47.6, lowFn: 58.8 },
  { detector: 'Random Cut Forest', standard: 51.7, lowFp: 38.4, lowFn: 59.7 },
  { detector: 'Twitter ADVec', standard: 47.1, lowFp: 33.6, lowFn: 53.5 },
  { detector: 'Windowed Gaussian', standard: 39.6, lowFp: 20.9, lowFn: 47.4 },
  { detector: 'Etsy Skyline', standard: 35.7, lowFp: 27.1, lowFn: 44.5 },
  { detector: 'Bayesian Changepoint', standard: 17.7, lowFp: 3.2, lowFn: 32.2 },
  { detector: 'EXPoSE', standard: 16.4, lowFp: 3.2, lowFn: 26.9 },
  { detector: 'Random', standard: 11.0, lowFp: 1.2, lowFn: 19.5 },
  { detector: 'Null', standard: 0, lowFp: 0, lowFn: 0 },
]
